package runtime

import (
	"time"
	"unicode/utf8"
)

// appendLogEntry appends one json-file log line (without its newline):
// the bytes encoding/json's Marshal of a jsonLogEntry gives, and Docker's
// json-file driver writes (HTML-safe escapes, \ufffd for each byte that is
// not UTF-8, U+2028 and U+2029 escaped), whichever encoding/json
// implementation the binary is built with (GOEXPERIMENT=jsonv2 writes a
// raw U+FFFD): berth-idle writes the same bytes (cmd/berth-idle/main.c
// jsonstr), so that a log reads the same whoever wrote it.
func appendLogEntry(dst []byte, stream string, text []byte, at time.Time) []byte {
	dst = append(dst, `{"log":`...)
	dst = appendJSONString(dst, text)
	dst = append(dst, `,"stream":`...)
	dst = appendJSONString(dst, []byte(stream))
	dst = append(dst, `,"time":"`...)
	dst = at.UTC().AppendFormat(dst, time.RFC3339Nano)
	return append(dst, `"}`...)
}

// appendJSONString appends s quoted as encoding/json (v1) quotes a string.
func appendJSONString(dst, s []byte) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if b := s[i]; b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' && b != '<' && b != '>' && b != '&' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '"', '\\':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[b>>4], hex[b&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRune(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
