package image

import "testing"

func TestNormalizeRef(t *testing.T) {
	const dgst = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	tests := []struct {
		in, want string
		wantErr  bool
	}{
		{in: "nginx", want: "docker.io/library/nginx:latest"},
		{in: "nginx:1.27", want: "docker.io/library/nginx:1.27"},
		{in: "library/nginx", want: "docker.io/library/nginx:latest"},
		{in: "docker.io/nginx", want: "docker.io/library/nginx:latest"},
		{in: "index.docker.io/library/nginx:1", want: "docker.io/library/nginx:1"},
		{in: "bitnami/redis:7", want: "docker.io/bitnami/redis:7"},
		{in: "ghcr.io/owner/app", want: "ghcr.io/owner/app:latest"},
		{in: "localhost/app", want: "localhost/app:latest"},
		{in: "localhost:5000/x/y:tag", want: "localhost:5000/x/y:tag"},
		{in: "127.0.0.1:5000/x/y:tag", want: "127.0.0.1:5000/x/y:tag"},
		{in: "[::1]:5000/x:1", want: "[::1]:5000/x:1"},
		{in: "busybox@" + dgst, want: "docker.io/library/busybox@" + dgst},
		{in: "busybox:1.36@" + dgst, want: "docker.io/library/busybox@" + dgst},
		{in: "library/Nginx", wantErr: true},
		{in: "", wantErr: true},
		{in: "a:b:c", wantErr: true},
		{in: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", wantErr: true},
	}
	for _, tt := range tests {
		got, err := NormalizeRef(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("NormalizeRef(%q) error = %v, want error %v", tt.in, err, tt.wantErr)
			continue
		}
		if got != tt.want {
			t.Errorf("NormalizeRef(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestIsLoopbackRegistry(t *testing.T) {
	for domain, want := range map[string]bool{
		"localhost":      true,
		"localhost:5000": true,
		"127.0.0.1:5000": true,
		"127.8.9.10":     true,
		"[::1]:5000":     true,
		"docker.io":      false,
		"10.0.0.1:5000":  false,
		"192.168.1.1":    false,
		"localhost.evil": false,
		"128.0.0.1:5000": false,
		"ghcr.io":        false,
	} {
		if got := isLoopbackRegistry(domain); got != want {
			t.Errorf("isLoopbackRegistry(%q) = %v, want %v", domain, got, want)
		}
	}
}
