package webhook

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// No test here sends traffic off this machine: public addresses are only classified, and real requests go
// to httptest servers on 127.0.0.1.

func TestCheckAddr(t *testing.T) {
	tests := []struct {
		addr         string
		allowed      bool // with AllowLoopbackHTTP false
		allowedLocal bool // with AllowLoopbackHTTP true
	}{
		{"93.184.216.34", true, true},
		{"8.8.8.8", true, true},
		{"2606:2800:220:1:248:1893:25c8:1946", true, true},
		{"64:ff9b::5db8:d822", true, true}, // NAT64 of 93.184.216.34

		{"127.0.0.1", false, true},
		{"127.8.9.10", false, true},
		{"::1", false, true},
		{"::ffff:127.0.0.1", false, true},

		{"10.0.0.1", false, false},
		{"172.16.0.1", false, false},
		{"172.31.255.255", false, false},
		{"192.168.1.1", false, false},
		{"169.254.169.254", false, false}, // EC2/ECS/Lambda metadata
		{"169.254.170.2", false, false},   // ECS task credentials
		{"169.254.0.1", false, false},
		{"100.64.0.1", false, false},
		{"100.127.255.254", false, false},
		{"0.0.0.0", false, false},
		{"0.1.2.3", false, false},
		{"224.0.0.1", false, false},
		{"239.255.255.250", false, false},
		{"255.255.255.255", false, false},
		{"240.0.0.1", false, false},
		{"192.0.2.1", false, false},
		{"198.18.0.1", false, false},
		{"::", false, false},
		{"::ffff:10.0.0.1", false, false},
		{"::ffff:169.254.169.254", false, false},
		{"::ffff:0.0.0.0", false, false},
		{"::169.254.169.254", false, false}, // IPv4-compatible
		{"::127.0.0.1", false, false},
		{"64:ff9b::a9fe:a9fe", false, false}, // NAT64 of 169.254.169.254
		{"64:ff9b::a00:1", false, false},     // NAT64 of 10.0.0.1
		{"64:ff9b::7f00:1", false, false},    // NAT64 of 127.0.0.1
		{"64:ff9b:1::1", false, false},
		{"fd00:ec2::254", false, false}, // AWS IPv6 metadata
		{"fd00:ec2::23", false, false},  // Amazon DNS
		{"fc00::1", false, false},
		{"fdff:ffff::1", false, false},
		{"fe80::1", false, false},
		{"fe80::1%eth0", false, false},
		{"febf::1", false, false},
		{"fec0::1", false, false},
		{"ff02::1", false, false},
		{"2001:db8::1", false, false},
		{"2002:a9fe:a9fe::1", false, false},
		{"2001:0:4136:e378::1", false, false}, // Teredo
		{"100::1", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			a, err := netip.ParseAddr(tt.addr)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range []struct {
				p    EgressPolicy
				want bool
			}{{EgressPolicy{}, tt.allowed}, {EgressPolicy{AllowLoopbackHTTP: true}, tt.allowedLocal}} {
				err := c.p.CheckAddr(a)
				if c.want && err != nil {
					t.Errorf("%+v: refused: %v", c.p, err)
				}
				if !c.want && !errors.Is(err, ErrEgressRefused) {
					t.Errorf("%+v: got %v, want ErrEgressRefused", c.p, err)
				}
			}
		})
	}
	if err := (EgressPolicy{}).CheckAddr(netip.Addr{}); !errors.Is(err, ErrEgressRefused) {
		t.Errorf("zero Addr: %v, want ErrEgressRefused", err)
	}
}

// TestBlockedTable pins the hand-built prefixes to their usual spelling, since they are built from bytes.
func TestBlockedTable(t *testing.T) {
	want := []string{
		"0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.169.254/32", "169.254.0.0/16",
		"172.16.0.0/12", "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16", "198.18.0.0/15",
		"198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
		"::/128", "::1/128", "::/96", "::ffff:0.0.0.0/96", "64:ff9b:1::/48", "100::/64", "2001::/32",
		"2001:db8::/32", "2002::/16", "3fff::/20", "fd00:ec2::254/128", "fc00::/7", "fe80::/10", "fec0::/10",
		"ff00::/8",
	}
	if len(blocked) != len(want) {
		t.Fatalf("blocked has %d entries, want %d", len(blocked), len(want))
	}
	for i, r := range blocked {
		if !r.prefix.IsValid() || r.prefix.String() != want[i] {
			t.Errorf("blocked[%d] = %v, want %s", i, r.prefix, want[i])
		}
	}
	if nat64.String() != "64:ff9b::/96" {
		t.Errorf("nat64 = %v", nat64)
	}
}

func TestCheckURL(t *testing.T) {
	tests := []struct {
		url          string
		want         error // with AllowLoopbackHTTP false
		wantLoopback error // with AllowLoopbackHTTP true
	}{
		{"https://dept.example.gov.cn/hooks/civicsnap", nil, nil},
		{"https://dept.example.gov.cn:8443/hooks", nil, nil},
		{"https://dept.example.gov.cn:443/hooks", nil, nil},
		{"HTTPS://Dept.Example.GOV.cn./x", nil, nil},
		{"https://93.184.216.34/hook", nil, nil},
		{"https://[2606:2800:220:1:248:1893:25c8:1946]/hook", nil, nil},

		{"http://dept.example.gov.cn/hooks", ErrEgressRefused, ErrEgressRefused},
		{"http://93.184.216.34/hook", ErrEgressRefused, ErrEgressRefused},
		{"ftp://dept.example.gov.cn/x", ErrEgressRefused, ErrEgressRefused},
		{"file:///etc/passwd", ErrInvalidURL, ErrInvalidURL},
		{"gopher://127.0.0.1:6379/_", ErrEgressRefused, ErrEgressRefused},
		{"https://user:pass@dept.example.gov.cn/x", ErrEgressRefused, ErrEgressRefused},
		{"https://user@127.0.0.1/x", ErrEgressRefused, ErrEgressRefused},
		{"https://dept.example.gov.cn:25/x", ErrEgressRefused, ErrEgressRefused},
		{"https://dept.example.gov.cn:8080/x", ErrEgressRefused, ErrEgressRefused},
		{"https://dept.example.gov.cn:0/x", ErrInvalidURL, ErrInvalidURL},
		{"https://dept.example.gov.cn:70000/x", ErrInvalidURL, ErrInvalidURL},
		{"https://dept.example.gov.cn:http/x", ErrInvalidURL, ErrInvalidURL},
		{"https:///x", ErrInvalidURL, ErrInvalidURL},
		{"/relative/path", ErrInvalidURL, ErrInvalidURL},
		{"dept.example.gov.cn/x", ErrInvalidURL, ErrInvalidURL},
		{"mailto:ops@example.gov.cn", ErrInvalidURL, ErrInvalidURL},
		{"https://exa mple.com/", ErrInvalidURL, ErrInvalidURL},
		{"", ErrInvalidURL, ErrInvalidURL},
		{"https://example.com/" + strings.Repeat("a", 2048), ErrInvalidURL, ErrInvalidURL},

		{"https://10.0.0.1/x", ErrEgressRefused, ErrEgressRefused},
		{"https://169.254.169.254/latest/meta-data/", ErrEgressRefused, ErrEgressRefused},
		{"http://169.254.169.254/latest/meta-data/", ErrEgressRefused, ErrEgressRefused},
		{"https://[fd00:ec2::254]/latest/meta-data/", ErrEgressRefused, ErrEgressRefused},
		{"https://[::ffff:169.254.169.254]/", ErrEgressRefused, ErrEgressRefused},
		{"https://[::ffff:a9fe:a9fe]/", ErrEgressRefused, ErrEgressRefused},
		{"https://[fe80::1%25eth0]/", ErrEgressRefused, ErrEgressRefused},
		{"https://100.64.1.1/", ErrEgressRefused, ErrEgressRefused},
		{"https://0.0.0.0/", ErrEgressRefused, ErrEgressRefused},
		{"https://2130706433/", ErrEgressRefused, ErrEgressRefused},
		{"https://0x7f000001/", ErrEgressRefused, ErrEgressRefused},
		{"https://0x7f.1/", ErrEgressRefused, ErrEgressRefused},
		{"https://127.1/", ErrEgressRefused, ErrEgressRefused},
		{"https://0177.0.0.1/", ErrEgressRefused, ErrEgressRefused},

		{"http://127.0.0.1:4566/hook", ErrEgressRefused, nil},
		{"http://127.0.0.1/hook", ErrEgressRefused, nil},
		{"https://127.0.0.1:9999/hook", ErrEgressRefused, nil},
		{"http://[::1]:8080/hook", ErrEgressRefused, nil},
		{"http://localhost:3000/hook", ErrEgressRefused, nil},
		{"http://LOCALHOST.:3000/hook", ErrEgressRefused, nil},
		{"http://dept.localhost:3000/hook", ErrEgressRefused, nil},
		{"http://[::ffff:127.0.0.1]:3000/hook", ErrEgressRefused, nil},
	}
	for _, tt := range tests {
		name := tt.url
		if len(name) > 60 {
			name = name[:60]
		}
		t.Run(name, func(t *testing.T) {
			for _, c := range []struct {
				p    EgressPolicy
				want error
			}{{EgressPolicy{}, tt.want}, {EgressPolicy{AllowLoopbackHTTP: true}, tt.wantLoopback}} {
				err := c.p.CheckURL(tt.url)
				if c.want == nil && err != nil {
					t.Errorf("%+v: refused: %v", c.p, err)
				}
				if c.want != nil && !errors.Is(err, c.want) {
					t.Errorf("%+v: got %v, want %v", c.p, err, c.want)
				}
			}
		})
	}
}

func TestControl(t *testing.T) {
	tests := []struct {
		network, address string
		local            bool
		ok               bool
	}{
		{"tcp4", "93.184.216.34:443", false, true},
		{"tcp6", "[2606:2800:220:1:248:1893:25c8:1946]:8443", false, true},
		{"tcp4", "93.184.216.34:80", false, false},
		{"tcp4", "93.184.216.34:6379", false, false},
		{"tcp4", "169.254.169.254:443", false, false},
		{"tcp4", "169.254.169.254:80", true, false},
		{"tcp6", "[fd00:ec2::254]:80", true, false},
		{"tcp6", "[::ffff:10.1.2.3]:443", false, false},
		{"tcp4", "127.0.0.1:8080", false, false},
		{"tcp4", "127.0.0.1:8080", true, true},
		{"tcp6", "[::1]:8080", true, true},
		{"udp4", "93.184.216.34:443", false, false},
		{"tcp4", "not-an-address", false, false},
	}
	for _, tt := range tests {
		p := EgressPolicy{AllowLoopbackHTTP: tt.local}
		err := p.control(tt.network, tt.address, nil)
		if tt.ok && err != nil {
			t.Errorf("control(%s, %s) with %+v: %v", tt.network, tt.address, p, err)
		}
		if !tt.ok && !errors.Is(err, ErrEgressRefused) {
			t.Errorf("control(%s, %s) with %+v = %v, want ErrEgressRefused", tt.network, tt.address, p, err)
		}
	}
}

func TestClientLoopback(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		_, _ = io.WriteString(w, "ok")
	}))
	defer srv.Close()

	resp, err := EgressPolicy{AllowLoopbackHTTP: true}.Client(5 * time.Second).Get(srv.URL + "/hook")
	if err != nil {
		t.Fatalf("local stack policy: %v", err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK || hits.Load() != 1 {
		t.Fatalf("status %d, hits %d; want 200, 1", resp.StatusCode, hits.Load())
	}

	_, err = EgressPolicy{}.Client(5 * time.Second).Get(srv.URL + "/hook")
	if !errors.Is(err, ErrEgressRefused) {
		t.Fatalf("deployed policy: %v, want ErrEgressRefused", err)
	}
	if hits.Load() != 1 {
		t.Fatalf("refused request reached the server (%d hits)", hits.Load())
	}
}

// TestDialerRefusesResolvedAddress bypasses the URL check to show that the dialer alone refuses what a
// name resolves to: "localhost" passes no URL check here, the dialer sees 127.0.0.1 or ::1.
func TestDialerRefusesResolvedAddress(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer srv.Close()
	port := srv.URL[strings.LastIndexByte(srv.URL, ':')+1:]

	client := &http.Client{Transport: EgressPolicy{}.transport(5 * time.Second), Timeout: 5 * time.Second}
	for _, u := range []string{srv.URL, "http://localhost:" + port} {
		_, err := client.Get(u)
		if !errors.Is(err, ErrEgressRefused) {
			t.Errorf("GET %s: %v, want ErrEgressRefused", u, err)
		}
	}
	if hits.Load() != 0 {
		t.Fatalf("refused requests reached the server (%d hits)", hits.Load())
	}
}

func TestClientDoesNotFollowRedirects(t *testing.T) {
	var inner atomic.Int32
	internal := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { inner.Add(1) }))
	defer internal.Close()
	bouncer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, internal.URL+"/latest/meta-data/", http.StatusTemporaryRedirect)
	}))
	defer bouncer.Close()

	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, bouncer.URL, strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := EgressPolicy{AllowLoopbackHTTP: true}.Client(5 * time.Second).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusTemporaryRedirect || inner.Load() != 0 {
		t.Fatalf("status %d, redirect target hit %d times; want 307 and 0", resp.StatusCode, inner.Load())
	}
}
