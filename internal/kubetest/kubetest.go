// Package kubetest starts a real Kubernetes control plane for tests —
// etcd, kube-apiserver and kube-controller-manager, built by
// scripts/k8s-tools.sh — on free loopback ports, with a self-made
// certificate and a static token. The children die with the test binary.
// There is no kubelet: tests check what the API server accepts, validates,
// defaults and stores.
package kubetest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	b64 "encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"k8s.io/client-go/rest"
)

// Server is a running control plane.
type Server struct {
	Config     *rest.Config // the API server, as the admin
	Kubeconfig string       // a kubeconfig file of the same
	dir        string
	procs      []*exec.Cmd
}

// ToolsDir is where scripts/k8s-tools.sh puts the programs.
func ToolsDir() string {
	if d := os.Getenv("BERTH_K8S_TOOLS"); d != "" {
		return filepath.Join(d, "bin")
	}
	return "/var/cache/berth-k8s-tools/bin"
}

// ErrNoTools: the programs are not built (run scripts/k8s-tools.sh).
var ErrNoTools = errors.New("etcd, kube-apiserver and kube-controller-manager are not built: run scripts/k8s-tools.sh")

const token = "berth-test-token"

// Start starts etcd, the API server and the controller manager under dir
// and waits until the API server is ready.
func Start(dir string) (*Server, error) {
	bin := ToolsDir()
	for _, p := range []string{"etcd", "kube-apiserver", "kube-controller-manager"} {
		if _, err := os.Stat(filepath.Join(bin, p)); err != nil {
			return nil, fmt.Errorf("%w (%v)", ErrNoTools, err)
		}
	}
	ports, err := freePorts(3)
	if err != nil {
		return nil, err
	}
	s := &Server{dir: dir}
	certPEM, keyPEM, err := selfSigned()
	if err != nil {
		return nil, err
	}
	files := map[string][]byte{
		"tls.crt":    certPEM,
		"tls.key":    keyPEM,
		"tokens.csv": []byte(token + ",admin,admin,system:masters\n"),
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			return nil, err
		}
	}
	etcdURL := "http://127.0.0.1:" + strconv.Itoa(ports[0])
	peerURL := "http://127.0.0.1:" + strconv.Itoa(ports[1])
	if err := s.run(filepath.Join(bin, "etcd"), "etcd", "--data-dir", filepath.Join(dir, "etcd"),
		"--listen-client-urls", etcdURL, "--advertise-client-urls", etcdURL,
		"--listen-peer-urls", peerURL, "--initial-advertise-peer-urls", peerURL,
		"--initial-cluster", "default="+peerURL, "--log-level", "error", "--unsafe-no-fsync"); err != nil {
		return nil, err
	}
	server := "https://127.0.0.1:" + strconv.Itoa(ports[2])
	if err := s.run(filepath.Join(bin, "kube-apiserver"), "kube-apiserver",
		"--etcd-servers", etcdURL, "--bind-address", "127.0.0.1", "--advertise-address", "127.0.0.1",
		"--secure-port", strconv.Itoa(ports[2]), "--cert-dir", dir,
		"--tls-cert-file", filepath.Join(dir, "tls.crt"), "--tls-private-key-file", filepath.Join(dir, "tls.key"),
		"--token-auth-file", filepath.Join(dir, "tokens.csv"), "--authorization-mode", "AlwaysAllow", "--anonymous-auth=false",
		"--service-account-issuer", "https://kubernetes.default.svc", "--service-account-key-file", filepath.Join(dir, "tls.key"),
		"--service-account-signing-key-file", filepath.Join(dir, "tls.key"), "--service-cluster-ip-range", "10.96.0.0/16",
		"--endpoint-reconciler-type", "none", "--enable-priority-and-fairness=false", "--v", "0"); err != nil {
		s.Stop()
		return nil, err
	}
	s.Config = &rest.Config{Host: server, BearerToken: token, TLSClientConfig: rest.TLSClientConfig{CAData: certPEM}}
	s.Kubeconfig = filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(s.Kubeconfig, kubeconfig(server, certPEM), 0o600); err != nil {
		s.Stop()
		return nil, err
	}
	if err := waitReady(server, certPEM, 60*time.Second); err != nil {
		s.Stop()
		return nil, fmt.Errorf("%w\n%s", err, s.logTail("kube-apiserver"))
	}
	if err := s.run(filepath.Join(bin, "kube-controller-manager"), "kube-controller-manager",
		"--kubeconfig", s.Kubeconfig, "--leader-elect=false", "--secure-port", "0",
		"--controllers", "namespace-controller,garbage-collector-controller,persistentvolumeclaim-protection-controller",
		"--use-service-account-credentials=false", "--v", "0"); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

// run starts one child, its output in dir/<name>.log; it is killed when
// the test binary dies.
func (s *Server) run(path, name string, args ...string) error {
	log, err := os.Create(filepath.Join(s.dir, name+".log"))
	if err != nil {
		return err
	}
	defer log.Close()
	cmd := exec.Command(path, args...)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting %s: %w", name, err)
	}
	s.procs = append(s.procs, cmd)
	return nil
}

// Stop kills the children, the last started first, and waits for them.
func (s *Server) Stop() {
	for i := len(s.procs) - 1; i >= 0; i-- {
		p := s.procs[i]
		_ = p.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = p.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = p.Process.Kill()
			<-done
		}
	}
	s.procs = nil
}

// logTail is the end of a child's log, for a failure message.
func (s *Server) logTail(name string) string {
	b, _ := os.ReadFile(filepath.Join(s.dir, name+".log"))
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return name + " log:\n" + string(b)
}

// freePorts finds n free loopback ports.
func freePorts(n int) ([]int, error) {
	var out []int
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("finding a free port: %w", err)
		}
		ls = append(ls, l)
		out = append(out, l.Addr().(*net.TCPAddr).Port)
	}
	return out, nil
}

// selfSigned makes a certificate for 127.0.0.1 and localhost, its own CA;
// its key also signs service account tokens.
func selfSigned() (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "berth-test-apiserver"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, BasicConstraintsValid: true, IsCA: true,
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), nil
}

// waitReady polls /readyz until the API server answers ok.
func waitReady(server string, ca []byte, timeout time.Duration) error {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca)
	client := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var last string
	for ctx.Err() == nil {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, server+"/readyz", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("the API server at %s was not ready in %s (last: %s)", server, timeout, last)
}

// kubeconfig is a kubeconfig file of the admin of server.
func kubeconfig(server string, ca []byte) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, `apiVersion: v1
kind: Config
clusters:
- name: test
  cluster:
    server: %s
    certificate-authority-data: %s
users:
- name: admin
  user:
    token: %s
contexts:
- name: test
  context: {cluster: test, user: admin, namespace: default}
current-context: test
`, server, b64.StdEncoding.EncodeToString(ca), token)
	return []byte(b.String())
}
