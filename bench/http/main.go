// Command trustcore-bench-http is the HTTP servers' harness of `make bench` (bench/README.md, "HTTP
// servers"): for each of the HTTP matrix's servers (tests/http-matrix/README.md), the same server
// program twice, without trustcore (TRUSTCORE_MATRIX_PLAIN=1: the same app, no middleware) and with
// its middleware, each loaded for a fixed time by a fixed number of keep-alive connections sending
// pre-signed `POST /lease/a` requests (RFC 9421 profile, each its own nonce, signed before timing
// with SignRequest). Any status but 200 fails the run. Per framework it writes the requests per
// second of each mode and the server's CPU time per request (utime + stime of its process tree from
// /proc, before and after the timed run, divided by the requests answered), and their difference:
// the middleware's added CPU µs per request. A third run serves the plain server again with its
// requests paced at the protected run's rate ("plain paced"): a server's CPU per request grows as
// its rate falls (more epoll wake-ups, and client wake-ups, per request), so protected − plain
// paced is the middleware's cost at equal load, and protected − plain also holds what the lower
// rate costs the server.
//
//	usage: trustcore-bench-http [flags] OUT.jsonl   (`-` for standard output; progress on standard error)
//
// -servers is `name=command;name=command` (the matrix's MATRIX_SERVERS form; each command split on
// spaces): the row's impl is the name, and the part of the name after its last '-' is the server's
// TRUSTCORE_MATRIX_FRAMEWORK.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"example.invalid/trustcore/bench/http/harness"
	"go.trustcore.dev/trustcore"
)

const (
	path    = harness.Path
	payload = harness.Payload
	// a server's Verifier has the default in-memory replay store: 100,000 (holder, nonce) pairs, a
	// quarter of them per holder, each kept 2 × skew + 1 s. A protected run stays under both: at
	// most maxSigned requests per server process, spread over `holders` holders (each its own key
	// and token)
	holders   = 8
	maxSigned = 90_000
	// requests cycled through in the plain mode (the server reads no signature)
	plainPool = 1024
)

var (
	serversFlag = flag.String("servers", "", "name=command;name=command (see the package comment)")
	policyFlag  = flag.String("policy", "", "the route policy file the servers load (TRUSTCORE_MATRIX_POLICY)")
	connections = flag.Int("connections", 8, "concurrent keep-alive connections")
	seconds     = flag.Float64("seconds", 3, "timed run per mode, seconds")
	warmup      = flag.Float64("warmup", 1, "untimed load before each timed run, seconds")
	only        = flag.String("only", "", "comma-separated names: run these servers only")
)

func main() {
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: trustcore-bench-http [flags] OUT.jsonl (or -)")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 || *policyFlag == "" || *connections < 1 || *seconds <= 0 || *warmup < 0 {
		flag.Usage()
		os.Exit(2)
	}
	servers, err := harness.ParseServers(*serversFlag, *only)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench-http:", err)
		os.Exit(2)
	}
	var w io.Writer = os.Stdout
	if flag.Arg(0) != "-" {
		f, err := os.Create(flag.Arg(0))
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench-http:", err)
			os.Exit(1)
		}
		defer f.Close()
		w = f
	}
	o := &out{w: bufio.NewWriter(w)}
	err = run(o, servers)
	if ferr := o.w.Flush(); err == nil {
		err = ferr
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench-http:", err)
		os.Exit(1) // the figures written so far are flushed above
	}
}

type out struct{ w *bufio.Writer }

func (o *out) line(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if _, err := o.w.Write(append(b, '\n')); err != nil {
		return err
	}
	return o.w.Flush()
}

// rateRow: requests per second of one mode, with what it was made of.
type rateRow struct {
	Impl        string  `json:"impl"`
	Op          string  `json:"op"`
	Unit        string  `json:"unit"`
	Value       float64 `json:"value"`
	Connections int     `json:"connections"`
	Requests    uint64  `json:"requests"`
	Seconds     float64 `json:"seconds"`
	CPUSeconds  float64 `json:"cpu_seconds"`
}

// cpuRow: the server's CPU µs per request of one mode, or (added) protected minus plain.
type cpuRow struct {
	Impl        string  `json:"impl"`
	Op          string  `json:"op"`
	Unit        string  `json:"unit"`
	Value       float64 `json:"value"`
	Connections int     `json:"connections"`
	Plain       float64 `json:"plain_cpu_us,omitempty"`
	Protected   float64 `json:"protected_cpu_us,omitempty"`
}

// sign makes count requests' headers for POST target (holders in turn, each request a nonce of
// its own, created now), on every CPU, before timing. The Authorization and Content-Digest values
// repeat: one string each is kept, so a pool of 90,000 stays small.
func sign(f *harness.Fixture, target string, count int) ([]http.Header, error) {
	pool := make([]http.Header, count)
	workers := runtime.GOMAXPROCS(0)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			shared := map[string]string{}
			for i := w; i < count; i += workers {
				h := i % holders
				pairs, err := trustcore.SignRequest(f.Keys[h], f.Tokens[h], trustcore.SignRequestOptions{
					Method: http.MethodPost, URL: target, Body: []byte(payload), Profile: "rfc9421"})
				if err != nil {
					errs[w] = err
					return
				}
				header := make(http.Header, len(pairs)+1)
				for _, p := range pairs {
					value := p.Value
					if s, ok := shared[value]; ok {
						value = s
					} else if p.Name == "Authorization" || p.Name == "Content-Digest" {
						shared[value] = value
					}
					header[http.CanonicalHeaderKey(p.Name)] = []string{value}
				}
				header["Content-Type"] = []string{"application/json"}
				pool[i] = header
			}
		}()
	}
	wg.Wait()
	return pool, errors.Join(errs...)
}

// load sends requests from pool (from index next on; cycled when cycle, else each once) over
// `connections` keep-alive connections, one request at a time on each, until the deadline or the
// pool's end. Any status but 200, or any error, stops every connection and is returned.
type load struct {
	url   *url.URL
	pool  []http.Header
	cycle bool
	next  atomic.Uint64
	conns []*http.Client
	// rate, when above 0, paces the requests: the n-th of a run is sent no sooner than n/rate
	// seconds after the run began (the connections share one schedule)
	rate float64
}

func newLoad(port int, pool []http.Header, cycle bool) *load {
	l := &load{url: &url.URL{Scheme: "http", Host: "127.0.0.1:" + strconv.Itoa(port), Path: path}, pool: pool, cycle: cycle}
	for i := 0; i < *connections; i++ {
		// one Transport per connection, at most one connection each: exactly `connections` of them
		t := &http.Transport{MaxConnsPerHost: 1, MaxIdleConnsPerHost: 1, DisableCompression: true,
			DialContext: (&net.Dialer{Timeout: 10 * time.Second}).DialContext}
		l.conns = append(l.conns, &http.Client{Transport: t, Timeout: 30 * time.Second})
	}
	return l
}

func (l *load) close() {
	for _, c := range l.conns {
		c.CloseIdleConnections()
	}
}

// take is the next request's headers, or nil when the pool is used up.
func (l *load) take() http.Header {
	i := l.next.Add(1) - 1
	if l.cycle {
		return l.pool[i%uint64(len(l.pool))]
	}
	if i >= uint64(len(l.pool)) {
		return nil
	}
	return l.pool[i]
}

func (l *load) send(ctx context.Context, c *http.Client, h http.Header) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, l.url.String(), strings.NewReader(payload))
	if err != nil {
		return err
	}
	req.Header = h // read only, never changed by the client
	return harness.Send(c, req)
}

// ready sends one request at a time until one is answered 200 (a server may listen before it
// serves: gunicorn's worker is still loading), at most 60 s.
func (l *load) ready() error {
	deadline := time.Now().Add(60 * time.Second)
	for {
		h := l.take()
		if h == nil {
			return errors.New("pool used up before the server answered")
		}
		err := l.send(context.Background(), l.conns[0], h)
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not ready after 60 s: %w", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// run loads the server for d; it returns the requests answered 200, the seconds they took (less
// than d when the pool ran out) and whether the pool ran out.
func (l *load) run(d time.Duration) (uint64, float64, bool, error) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var count atomic.Uint64
	var exhausted atomic.Bool
	var first error
	var once sync.Once
	var wg sync.WaitGroup
	var ticket atomic.Uint64
	begin := time.Now()
	deadline := begin.Add(d)
	for _, c := range l.conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil && time.Now().Before(deadline) {
				if l.rate > 0 {
					at := begin.Add(time.Duration(float64(ticket.Add(1)-1) / l.rate * float64(time.Second)))
					if wait := time.Until(at); wait > 0 {
						time.Sleep(wait)
					}
				}
				h := l.take()
				if h == nil {
					exhausted.Store(true)
					return
				}
				if err := l.send(ctx, c, h); err != nil {
					if ctx.Err() == nil {
						once.Do(func() { first = err; cancel() })
					}
					return
				}
				count.Add(1)
			}
		}()
	}
	wg.Wait()
	return count.Load(), time.Since(begin).Seconds(), exhausted.Load(), first
}

// measurement: one mode of one server.
type measurement struct {
	requests   uint64
	seconds    float64
	cpuSeconds float64
}

func (m measurement) rps() float64   { return float64(m.requests) / m.seconds }
func (m measurement) cpuUs() float64 { return m.cpuSeconds * 1e6 / float64(m.requests) }

// measure starts the server in one mode, signs its pool (protected: `signed` requests, each once;
// plain: a small pool cycled), waits until it serves, loads it `warmup` s untimed, then `seconds`
// s timed with its CPU time read before and after, and stops it. rate above 0 paces the requests
// (plain only: see run).
func measure(s harness.Server, f *harness.Fixture, policy string, plain bool, signed int, rate float64) (measurement, error) {
	mode := map[bool]string{true: "plain", false: "protected"}[plain]
	if rate > 0 {
		mode = "plain paced"
	}
	var extra []string
	if plain {
		extra = append(extra, "TRUSTCORE_MATRIX_PLAIN=1")
	}
	p, err := harness.Start(s, f.IssuerHex, policy, extra...)
	if err != nil {
		return measurement{}, err
	}
	defer p.Stop()
	count := signed
	if plain {
		count = plainPool
	}
	pool, err := sign(f, "http://127.0.0.1:"+strconv.Itoa(p.Port)+path, count)
	if err != nil {
		return measurement{}, fmt.Errorf("%s: signing: %w", s.Name, err)
	}
	l := newLoad(p.Port, pool, plain)
	l.rate = rate
	defer l.close()
	if err := l.ready(); err != nil {
		return measurement{}, fmt.Errorf("%s %s: %w", s.Name, mode, err)
	}
	if *warmup > 0 {
		if _, _, exhausted, err := l.run(time.Duration(*warmup * float64(time.Second))); err != nil {
			return measurement{}, fmt.Errorf("%s %s (warm-up): %w", s.Name, mode, err)
		} else if exhausted {
			return measurement{}, fmt.Errorf("%s %s: the pool of %d signed requests ran out during the warm-up", s.Name, mode, count)
		}
	}
	before, err := p.CPUSeconds()
	if err != nil {
		return measurement{}, err
	}
	n, elapsed, exhausted, err := l.run(time.Duration(*seconds * float64(time.Second)))
	if err != nil {
		return measurement{}, fmt.Errorf("%s %s: %w", s.Name, mode, err)
	}
	after, err := p.CPUSeconds()
	if err != nil {
		return measurement{}, err
	}
	if n == 0 {
		return measurement{}, fmt.Errorf("%s %s: no request answered", s.Name, mode)
	}
	m := measurement{requests: n, seconds: elapsed, cpuSeconds: after - before}
	note := ""
	if exhausted {
		note = fmt.Sprintf(" (the %d signed requests ran out after %.2f s)", count, elapsed)
	}
	fmt.Fprintf(os.Stderr, "%s %s: %.0f req/s, %.1f server CPU µs/request, %d requests in %.2f s%s\n",
		s.Name, mode, m.rps(), m.cpuUs(), n, elapsed, note)
	return m, nil
}

func run(o *out, servers []harness.Server) error {
	f, err := harness.NewFixture(holders)
	if err != nil {
		return err
	}
	policy := *policyFlag
	for _, s := range servers {
		plain, err := measure(s, f, policy, true, 0, 0)
		if err != nil {
			return err
		}
		// the protected run cannot outpace the plain one: its pool is what the plain rate would
		// send in the warm-up and the timed run, with a margin, within the replay store's bounds
		signed := int(plain.rps()*(*warmup+*seconds)*1.3) + 1000
		signed = min(signed, maxSigned)
		protected, err := measure(s, f, policy, false, signed, 0)
		if err != nil {
			return err
		}
		// the plain server again, paced at the protected one's rate: a server's CPU per request
		// depends on its rate as well (a slower one wakes from epoll, and wakes its client, for
		// fewer requests at a time), so protected − plain paced is the middleware's cost at equal load
		paced, err := measure(s, f, policy, true, 0, protected.rps())
		if err != nil {
			return err
		}
		for _, m := range []struct {
			op string
			m  measurement
		}{{"http_server_plain_rps", plain}, {"http_server_protected_rps", protected}, {"http_server_plain_paced_rps", paced}} {
			if err := o.line(rateRow{Impl: s.Name, Op: m.op, Unit: "req/s", Value: m.m.rps(), Connections: *connections,
				Requests: m.m.requests, Seconds: m.m.seconds, CPUSeconds: m.m.cpuSeconds}); err != nil {
				return err
			}
		}
		rows := []cpuRow{
			{Impl: s.Name, Op: "http_server_plain_cpu_us", Value: plain.cpuUs()},
			{Impl: s.Name, Op: "http_server_protected_cpu_us", Value: protected.cpuUs()},
			{Impl: s.Name, Op: "http_server_added_cpu_us", Value: protected.cpuUs() - plain.cpuUs(),
				Plain: plain.cpuUs(), Protected: protected.cpuUs()},
			{Impl: s.Name, Op: "http_server_plain_paced_cpu_us", Value: paced.cpuUs()},
			{Impl: s.Name, Op: "http_server_added_paced_cpu_us", Value: protected.cpuUs() - paced.cpuUs(),
				Plain: paced.cpuUs(), Protected: protected.cpuUs()},
		}
		for _, r := range rows {
			r.Unit, r.Connections = "us", *connections
			if err := o.line(r); err != nil {
				return err
			}
		}
		fmt.Fprintf(os.Stderr, "%s: the middleware adds %.1f server CPU µs per request (%.1f at equal rate)\n",
			s.Name, rows[2].Value, rows[4].Value)
	}
	return nil
}
