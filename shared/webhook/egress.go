package webhook

import (
	"crypto/tls"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// DefaultTimeout bounds a whole delivery when Client is given no timeout: long enough for a slow department
// endpoint, short enough that one dead endpoint cannot hold a Lambda batch hostage.
const DefaultTimeout = 10 * time.Second

const (
	maxURLLen         = 2048
	maxResponseHeader = 64 << 10
)

// EgressPolicy decides which destinations civicsnap may call with a URL that someone else configured
// (a department's callback endpoint), so that such a URL cannot make us reach internal services (SSRF):
// the VPC, the cloud metadata endpoint, or the local machine.
//
// Remote destinations must be https on port 443 or 8443, at a public unicast address. AllowLoopbackHTTP is
// for the local stack only: it admits loopback destinations (127.0.0.0/8, ::1, localhost) on any port and
// over plain http. Never set it in a deployed function.
type EgressPolicy struct {
	AllowLoopbackHTTP bool
}

// CheckURL checks what can be known from the URL alone: an absolute http(s) URL without credentials, with a
// host, and, when the host is an IP literal, an address the policy allows. A host name is checked again,
// against the address it actually resolves to, when Client dials it. Errors are ErrInvalidURL or
// ErrEgressRefused.
func (p EgressPolicy) CheckURL(raw string) error {
	if len(raw) > maxURLLen {
		return ErrInvalidURL.With("the webhook URL is longer than %d characters", maxURLLen)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return ErrInvalidURL.Wrap(err)
	}
	if !u.IsAbs() || u.Opaque != "" {
		return ErrInvalidURL
	}
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	if host == "" {
		return ErrInvalidURL.With("the webhook URL has no host")
	}
	port := uint16(0)
	if ps := u.Port(); ps != "" {
		n, err := strconv.ParseUint(ps, 10, 16)
		if err != nil || n == 0 {
			return ErrInvalidURL.With("the webhook URL has an invalid port")
		}
		port = uint16(n)
	}
	// Credentials in a URL end up in logs and in the Authorization header of every request; departments
	// authenticate our requests by the signature instead.
	if u.User != nil {
		return ErrEgressRefused.With("the webhook URL must not contain credentials")
	}

	addr, ipErr := netip.ParseAddr(host)
	isIP := ipErr == nil
	loopback := host == "localhost" || strings.HasSuffix(host, ".localhost") ||
		(isIP && addr.WithZone("").Unmap().IsLoopback())

	switch u.Scheme {
	case "https":
	case "http":
		if !p.AllowLoopbackHTTP || !loopback {
			return ErrEgressRefused.With("the webhook URL must use https")
		}
	default:
		return ErrEgressRefused.With("the webhook URL must use https, not %q", u.Scheme)
	}

	if loopback {
		if !p.AllowLoopbackHTTP {
			return ErrEgressRefused.With("the webhook URL points to this machine")
		}
		return nil
	}
	if isIP {
		if err := p.CheckAddr(addr); err != nil {
			return err
		}
	} else if numericHost(host) {
		// Forms like 2130706433, 0x7f.1 or 127.1 are not IP literals to Go but some resolvers (glibc's
		// inet_aton) read them as addresses; no real host name looks like that, so refuse them outright.
		return ErrEgressRefused.With("the webhook URL host is a non-canonical IP address")
	}
	if port == 0 {
		port = 443
	}
	if !remotePort(port) {
		return ErrEgressRefused.With("the webhook URL port must be 443 or 8443")
	}
	return nil
}

// CheckAddr checks one destination address: loopback only when AllowLoopbackHTTP, and never a private,
// link-local (cloud metadata), unique-local, CGNAT, multicast, unspecified, reserved or documentation
// address, including the same addresses written as IPv4-mapped or NAT64 IPv6. It is what Client's dialer
// applies to every address it connects to.
func (p EgressPolicy) CheckAddr(addr netip.Addr) error {
	if !addr.IsValid() {
		return ErrEgressRefused.With("no destination address")
	}
	// Prefix.Contains never matches a zoned or IPv4-mapped address, so compare the bare address.
	a := addr.WithZone("").Unmap()
	if a.IsLoopback() {
		if p.AllowLoopbackHTTP {
			return nil
		}
		return ErrEgressRefused.With("destination %s is a loopback address", a)
	}
	if why := blockedReason(a); why != "" {
		return ErrEgressRefused.With("destination %s is %s", a, why)
	}
	return nil
}

// Client returns an HTTP client that enforces the policy on every request: the URL is checked with
// CheckURL before the request is sent, and the dialer checks each address it actually connects to, after
// DNS resolution, so a name that resolves (or re-resolves, DNS rebinding) to an internal address is
// refused. Redirects are returned to the caller, never followed, so an allowed host cannot bounce us to an
// internal one. Environment proxies are ignored: through a proxy the dialer would only ever see the
// proxy's address. A non-positive timeout means DefaultTimeout. Build one client per container and share
// it: it pools connections.
func (p EgressPolicy) Client(timeout time.Duration) *http.Client {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	return &http.Client{
		Transport: guard{policy: p, next: p.transport(timeout)},
		Timeout:   timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// transport is the dialing half of Client, without the URL check, so tests can show the dialer alone
// refuses an address.
func (p EgressPolicy) transport(timeout time.Duration) *http.Transport {
	dialer := &net.Dialer{
		Timeout:   min(timeout, DefaultTimeout),
		KeepAlive: 30 * time.Second,
		Control:   p.control,
	}
	return &http.Transport{
		Proxy:                  nil,
		DialContext:            dialer.DialContext,
		ForceAttemptHTTP2:      true,
		MaxIdleConns:           100,
		IdleConnTimeout:        90 * time.Second,
		TLSHandshakeTimeout:    min(timeout, DefaultTimeout),
		ResponseHeaderTimeout:  timeout,
		ExpectContinueTimeout:  time.Second,
		MaxResponseHeaderBytes: maxResponseHeader,
		TLSClientConfig:        &tls.Config{MinVersion: tls.VersionTLS12},
	}
}

// control runs after resolution and before connect, once per address tried, so it judges the address
// the socket is about to reach rather than the name in the URL.
func (p EgressPolicy) control(network, address string, _ syscall.RawConn) error {
	switch network {
	case "tcp", "tcp4", "tcp6":
	default:
		return ErrEgressRefused.With("network %s is not allowed", network)
	}
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return ErrEgressRefused.With("cannot parse destination %q", address)
	}
	if err := p.CheckAddr(ap.Addr()); err != nil {
		return err
	}
	if ap.Addr().WithZone("").Unmap().IsLoopback() || remotePort(ap.Port()) {
		return nil
	}
	return ErrEgressRefused.With("destination port %d is not allowed", ap.Port())
}

// guard applies CheckURL to each request, so a caller cannot skip it (e.g. send plain http to a public
// host) by handing Client an unchecked URL.
type guard struct {
	policy EgressPolicy
	next   http.RoundTripper
}

func (g guard) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := g.policy.CheckURL(req.URL.String()); err != nil {
		// A RoundTripper must close the body even when it refuses the request.
		if req.Body != nil {
			_ = req.Body.Close()
		}
		return nil, err
	}
	return g.next.RoundTrip(req)
}

// CloseIdleConnections lets http.Client.CloseIdleConnections reach the pooled transport behind the guard.
func (g guard) CloseIdleConnections() {
	if c, ok := g.next.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// remotePort lists the ports a department endpoint may use: TLS terminates on these in practice, and any
// other port would let a URL probe non-HTTP services (SMTP, Redis, …) on a public host.
func remotePort(port uint16) bool {
	return port == 443 || port == 8443
}

// numericHost reports whether a host name's last label is all digits or hex with 0x: no top-level domain
// looks like that, but inet_aton-style parsers read such names as IPv4 addresses.
func numericHost(host string) bool {
	last := host[strings.LastIndexByte(host, '.')+1:]
	if h, ok := strings.CutPrefix(last, "0x"); ok {
		last = h
		if last == "" {
			return true
		}
		return strings.Trim(last, "0123456789abcdef") == ""
	}
	return last != "" && strings.Trim(last, "0123456789") == ""
}

// blockedRange is one range of addresses we never call, with the reason shown in the refusal.
type blockedRange struct {
	prefix netip.Prefix
	why    string
}

// blocked lists the non-public ranges (IANA special-purpose registries). Order matters only for the reason
// reported: specific entries come before the ranges that contain them. It is never written after
// initialisation.
var blocked = []blockedRange{
	{v4(0, 0, 0, 0, 8), `in 0.0.0.0/8 ("this network")`},
	{v4(10, 0, 0, 0, 8), "private (RFC 1918)"},
	{v4(100, 64, 0, 0, 10), "shared address space (CGNAT, RFC 6598)"},
	{v4(127, 0, 0, 0, 8), "a loopback address"},
	{v4(169, 254, 169, 254, 32), "the cloud metadata endpoint"},
	{v4(169, 254, 0, 0, 16), "link-local"},
	{v4(172, 16, 0, 0, 12), "private (RFC 1918)"},
	{v4(192, 0, 0, 0, 24), "reserved for IETF protocol assignments"},
	{v4(192, 0, 2, 0, 24), "reserved for documentation"},
	{v4(192, 88, 99, 0, 24), "the deprecated 6to4 relay anycast range"},
	{v4(192, 168, 0, 0, 16), "private (RFC 1918)"},
	{v4(198, 18, 0, 0, 15), "reserved for benchmarking"},
	{v4(198, 51, 100, 0, 24), "reserved for documentation"},
	{v4(203, 0, 113, 0, 24), "reserved for documentation"},
	{v4(224, 0, 0, 0, 4), "multicast"},
	{v4(240, 0, 0, 0, 4), "reserved (or broadcast)"},

	{v6(128), "the unspecified address"},
	{v6(128, 0, 0, 0, 0, 0, 0, 0, 1), "a loopback address"},
	{v6(96), "an IPv4-compatible IPv6 address (deprecated)"},
	{v6(96, 0, 0, 0, 0, 0, 0xffff), "an IPv4-mapped IPv6 address"},
	{v6(48, 0x64, 0xff9b, 1), "local-use NAT64 (RFC 8215)"},
	{v6(64, 0x100), "the discard-only range"},
	{v6(32, 0x2001, 0), "Teredo"},
	{v6(32, 0x2001, 0xdb8), "reserved for documentation"},
	{v6(16, 0x2002), "6to4"},
	{v6(20, 0x3fff), "reserved for documentation"},
	{v6(128, 0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254), "the AWS IPv6 metadata endpoint"},
	{v6(7, 0xfc00), "unique local (RFC 4193)"},
	{v6(10, 0xfe80), "link-local"},
	{v6(10, 0xfec0), "site-local (deprecated)"},
	{v6(8, 0xff00), "multicast"},
}

// nat64 is the well-known NAT64 prefix: a VPC with DNS64 reaches 64:ff9b::a.b.c.d through its NAT gateway
// as the IPv4 address a.b.c.d, which may be private, so the embedded address is judged instead.
var nat64 = v6(96, 0x64, 0xff9b)

// blockedReason returns why a (unzoned, unmapped) address may not be called, or "" if it may.
func blockedReason(a netip.Addr) string {
	if nat64.Contains(a) {
		b := a.As16()
		inner := netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]})
		if inner.IsLoopback() {
			return "a NAT64 form of a loopback address"
		}
		if why := blockedReason(inner); why != "" {
			return "a NAT64 form of an address that is " + why
		}
		return ""
	}
	for _, r := range blocked {
		if r.prefix.Contains(a) {
			return r.why
		}
	}
	// Anything the tables missed that is still not global unicast (e.g. a future special range netip
	// knows about) is refused too.
	if !a.IsGlobalUnicast() {
		return "not a global unicast address"
	}
	return ""
}

// v4 builds an IPv4 prefix without parsing, so building the table can never fail or panic.
func v4(a, b, c, d byte, bits int) netip.Prefix {
	return netip.PrefixFrom(netip.AddrFrom4([4]byte{a, b, c, d}), bits)
}

// v6 builds an IPv6 prefix from its leading 16-bit groups; missing groups are zero.
func v6(bits int, groups ...uint16) netip.Prefix {
	var b [16]byte
	for i, g := range groups {
		if i >= 8 {
			break
		}
		b[2*i], b[2*i+1] = byte(g>>8), byte(g)
	}
	return netip.PrefixFrom(netip.AddrFrom16(b), bits)
}
