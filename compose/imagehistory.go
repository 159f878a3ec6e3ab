package compose

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/docker/go-units"
	"github.com/spf13/cobra"

	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/image"
)

func newImageHistory(g *globals) *cobra.Command {
	var format string
	var human, noTrunc, quiet bool
	cmd := &cobra.Command{
		Use:   "history [OPTIONS] IMAGE",
		Short: "Show the history of an image",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.withEngine(func(e *engine.Engine) error {
				img, err := e.Images.Get(args[0])
				if err != nil {
					return fmt.Errorf("image %s: %w", args[0], err)
				}
				hist, err := e.Images.HistoryOf(img)
				if err != nil {
					return err
				}
				rows := historyRows(img.ID, hist, time.Now(), human, !noTrunc)
				if quiet {
					format = "{{.ID}}"
				}
				return imageHistory.render(cmd.OutOrStdout(), format, rows)
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&format, "format", "table", formatUsage)
	f.BoolVarP(&human, "human", "H", true, "print sizes and dates in human readable format")
	f.BoolVar(&noTrunc, "no-trunc", false, "don't truncate output")
	f.BoolVarP(&quiet, "quiet", "q", false, "only show image IDs")
	return cmd
}

// historyRow is one row of `image history`, with Docker's JSON keys
// (in Docker's order).
type historyRow struct {
	Comment, CreatedAt, CreatedBy, CreatedSince, ID, Size string
}

var imageHistory = listing{
	table:   `{{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}`,
	headers: map[string]string{"ID": "IMAGE", "CreatedSince": "CREATED", "CreatedAt": "CREATED AT", "CreatedBy": "CREATED BY", "Size": "SIZE", "Comment": "COMMENT"},
	minCell: 10,
}

// historyRows are the rows of an image's history, newest first as Docker
// shows them: the newest names the image, the others are <missing> (no
// image of their own, as with any image built by BuildKit or pulled).
func historyRows(id string, hist []image.History, now time.Time, human, trunc bool) []historyRow {
	rows := make([]historyRow, 0, len(hist))
	for i, h := range slices.Backward(hist) {
		r := historyRow{ID: "<missing>", Comment: h.Comment, CreatedAt: h.Created.Local().Format(time.RFC3339)}
		if i == len(hist)-1 {
			r.ID = id
			if trunc {
				r.ID = shortDigest(id)
			}
		}
		r.CreatedBy = strings.ReplaceAll(h.CreatedBy, "\t", " ")
		if trunc {
			r.CreatedBy = ellipsis(r.CreatedBy, 45)
		}
		if human {
			r.CreatedSince = units.HumanDuration(now.Sub(h.Created)) + " ago"
			r.Size = units.HumanSizeWithPrecision(float64(h.Size), 3)
		} else {
			r.CreatedSince = r.CreatedAt
			r.Size = strconv.FormatInt(h.Size, 10)
		}
		rows = append(rows, r)
	}
	return rows
}
