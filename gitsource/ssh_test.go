package gitsource

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/binary"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/berth-dev/berth/gitops"
)

// sshServer is a git server over SSH on loopback: it accepts one client
// key and runs git-upload-pack for "git-upload-pack '<path>'" requests.
type sshServer struct {
	addr    string
	hostKey ssh.PublicKey
}

func newKey(t *testing.T) (ssh.Signer, []byte) {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	return signer, pem.EncodeToMemory(block)
}

func startSSHServer(t *testing.T, client ssh.PublicKey) *sshServer {
	t.Helper()
	host, _ := newKey(t)
	cfg := &ssh.ServerConfig{PublicKeyCallback: func(_ ssh.ConnMetadata, k ssh.PublicKey) (*ssh.Permissions, error) {
		if string(k.Marshal()) != string(client.Marshal()) {
			return nil, fmt.Errorf("unknown key")
		}
		return nil, nil
	}}
	cfg.AddHostKey(host)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go serveSSH(c, cfg)
		}
	}()
	return &sshServer{addr: ln.Addr().String(), hostKey: host.PublicKey()}
}

func serveSSH(c net.Conn, cfg *ssh.ServerConfig) {
	defer c.Close()
	_, chans, reqs, err := ssh.NewServerConn(c, cfg)
	if err != nil {
		return
	}
	go ssh.DiscardRequests(reqs)
	for nc := range chans {
		if nc.ChannelType() != "session" {
			nc.Reject(ssh.UnknownChannelType, "")
			continue
		}
		ch, chReqs, err := nc.Accept()
		if err != nil {
			return
		}
		go func() {
			defer ch.Close()
			for req := range chReqs {
				if req.Type != "exec" {
					req.Reply(false, nil)
					continue
				}
				n := binary.BigEndian.Uint32(req.Payload)
				cmdline := string(req.Payload[4 : 4+n])
				req.Reply(true, nil)
				verb, path, _ := strings.Cut(cmdline, " ")
				cmd := exec.Command("git", strings.TrimPrefix(verb, "git-"), strings.Trim(path, "'"))
				cmd.Stdin, cmd.Stdout, cmd.Stderr = ch, ch, ch.Stderr()
				status := uint32(0)
				if err := cmd.Run(); err != nil {
					status = 1
				}
				ch.SendRequest("exit-status", false, binary.BigEndian.AppendUint32(nil, status))
				return
			}
		}()
	}
}

func TestSSHChecksHostKeys(t *testing.T) {
	o := newOrigin(t)
	want := o.commit("first", map[string]string{"compose.yaml": "services: {}\n"})
	clientSigner, clientPEM := newKey(t)
	srv := startSSHServer(t, clientSigner.PublicKey())
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "id_ed25519")
	if err := os.WriteFile(keyFile, clientPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	known := func(name string, k ssh.PublicKey) string {
		p := filepath.Join(dir, name)
		line := knownhosts.Line([]string{knownhosts.Normalize(srv.addr)}, k)
		if err := os.WriteFile(p, []byte(line+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	url := "ssh://git@" + srv.addr + o.dir

	good := known("known_hosts", srv.hostKey)
	if _, got := fetch(t, gitops.Source{URL: url, Auth: gitops.Auth{SSHKeyFile: keyFile, KnownHosts: good}}); got != want {
		t.Errorf("fetched %s, want %s", got, want)
	}

	// A host key other than the known one is refused, never accepted.
	other, _ := newKey(t)
	r, err := Open(filepath.Join(t.TempDir(), "c"), gitops.Source{URL: url, Auth: gitops.Auth{SSHKeyFile: keyFile, KnownHosts: known("other", other.PublicKey())}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Fetch(context.Background()); err == nil || !strings.Contains(err.Error(), "key mismatch") {
		t.Errorf("a changed host key: %v", err)
	}
	// A key the server does not know is refused by the server.
	_, strangerPEM := newKey(t)
	stranger := filepath.Join(dir, "stranger")
	os.WriteFile(stranger, strangerPEM, 0o600)
	r, _ = Open(filepath.Join(t.TempDir(), "c"), gitops.Source{URL: url, Auth: gitops.Auth{SSHKeyFile: stranger, KnownHosts: good}})
	if _, err := r.Fetch(context.Background()); err == nil {
		t.Error("a key the server does not know was accepted")
	}
}
