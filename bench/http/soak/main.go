// Command soak is the HTTP soak (README "Long-running servers"; `make soak-http`, and a short form
// in `make test`): for each of the HTTP matrix's servers (tests/http-matrix/README.md), one server
// process answers -requests signed requests sent through the Go signing client
// (trustcore.NewTransport) over -connections keep-alive connections by -holders holders, while
// -burners processes keep every CPU busy. It fails when any request is not answered 200 (a valid
// request wrongly refused), when the server dies, or when the server's resident memory at the end
// exceeds its memory at the middle by more than -rss-slack-mib plus 10 %. Per server it writes one
// JSON line: requests, seconds, and the resident memory at the start (after 5 % of the requests),
// middle and end, and the largest seen.
//
//	usage: soak [flags] OUT.jsonl   (`-` for standard output; progress on standard error)
//
// The servers run with TRUSTCORE_MATRIX_MAX_SKEW_SECONDS=-skew: a replay entry lives 2 × skew + 1 s,
// and the default in-memory replay store (100,000 entries, a quarter per holder) refuses, closed,
// once full of live entries; at the default five-minute skew that caps a server at about 166
// requests a second sustained. A soak measures the server, not that documented bound.
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
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"example.invalid/trustcore/bench/http/harness"
	"go.trustcore.dev/trustcore"
)

var (
	serversFlag = flag.String("servers", "", "name=command;name=command (the matrix's MATRIX_SERVERS form)")
	only        = flag.String("only", "", "comma-separated names: run these servers only")
	policyFlag  = flag.String("policy", "", "the route policy file the servers load (TRUSTCORE_MATRIX_POLICY)")
	requests    = flag.Int("requests", 50_000, "requests per server")
	connections = flag.Int("connections", 8, "concurrent keep-alive connections")
	holders     = flag.Int("holders", 32, "holders signing in turn (each its own key and token)")
	burners     = flag.Int("burners", runtime.NumCPU(), "processes spinning on the CPU meanwhile")
	skew        = flag.Float64("skew", 10, "the servers' max skew, seconds")
	slackMiB    = flag.Float64("rss-slack-mib", 16, "resident memory the end may add to the middle, beyond 10 %")
	burn        = flag.Bool("burn", false, "(internal) spin until killed")
)

// row is one server's soak.
type row struct {
	Impl        string  `json:"impl"`
	Op          string  `json:"op"`
	Requests    int     `json:"requests"`
	Seconds     float64 `json:"seconds"`
	RPS         float64 `json:"rps"`
	Connections int     `json:"connections"`
	Holders     int     `json:"holders"`
	Burners     int     `json:"burners"`
	RSSStartMiB float64 `json:"rss_start_mib"`
	RSSMidMiB   float64 `json:"rss_middle_mib"`
	RSSEndMiB   float64 `json:"rss_end_mib"`
	RSSMaxMiB   float64 `json:"rss_max_mib"`
}

func main() {
	flag.Parse()
	if *burn {
		for x := uint64(1); ; x = x*6364136223846793005 + 1 {
			_ = x
		}
	}
	if flag.NArg() != 1 || *policyFlag == "" || *requests < 100 || *connections < 1 || *holders < *connections {
		fmt.Fprintln(os.Stderr, "usage: soak [flags] OUT.jsonl (or -); -requests ≥ 100, -holders ≥ -connections")
		flag.PrintDefaults()
		os.Exit(2)
	}
	servers, err := harness.ParseServers(*serversFlag, *only)
	if err == nil {
		err = run(servers, flag.Arg(0))
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(1)
	}
}

func run(servers []harness.Server, outPath string) error {
	var w io.Writer = os.Stdout
	if outPath != "-" {
		f, err := os.Create(outPath)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	out := bufio.NewWriter(w)
	defer out.Flush()
	f, err := harness.NewFixture(*holders)
	if err != nil {
		return err
	}
	stopBurners, err := startBurners(*burners)
	if err != nil {
		return err
	}
	defer stopBurners()
	var failed []error
	for _, s := range servers {
		r, err := soak(s, f)
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s: FAILED: %v\n", s.Name, err)
			failed = append(failed, fmt.Errorf("%s: %w", s.Name, err))
			continue
		}
		b, _ := json.Marshal(r)
		if _, err := out.Write(append(b, '\n')); err != nil {
			return err
		}
		if err := out.Flush(); err != nil {
			return err
		}
	}
	return errors.Join(failed...)
}

// startBurners starts n copies of this program spinning (nice 0: they compete with the server
// and the clients as equals); the returned function kills them.
func startBurners(n int) (func(), error) {
	var cmds []*exec.Cmd
	stop := func() {
		for _, c := range cmds {
			_ = c.Process.Kill()
			_ = c.Wait()
		}
	}
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	for i := 0; i < n; i++ {
		c := exec.Command(self, "-burn")
		c.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		if err := c.Start(); err != nil {
			stop()
			return nil, err
		}
		cmds = append(cmds, c)
	}
	return stop, nil
}

// client is one connection's holders: each holder's signing Transport over the connection's one
// keep-alive transport.
type client struct {
	base    *http.Transport
	holders []*http.Client
}

func newClients(f *harness.Fixture) []*client {
	clients := make([]*client, *connections)
	for c := range clients {
		base := &http.Transport{MaxConnsPerHost: 1, MaxIdleConnsPerHost: 1, DisableCompression: true,
			DialContext: (&net.Dialer{Timeout: 10 * time.Second}).DialContext}
		cl := &client{base: base}
		for h := c; h < len(f.Keys); h += *connections {
			cl.holders = append(cl.holders, &http.Client{Transport: trustcore.NewTransport(f.Keys[h], f.Tokens[h], base),
				Timeout: 30 * time.Second})
		}
		clients[c] = cl
	}
	return clients
}

func send(ctx context.Context, c *http.Client, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(harness.Payload))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	return harness.Send(c, req)
}

const mib = 1024 * 1024

func soak(s harness.Server, f *harness.Fixture) (row, error) {
	p, err := harness.Start(s, f.IssuerHex, *policyFlag,
		"TRUSTCORE_MATRIX_MAX_SKEW_SECONDS="+strconv.FormatFloat(*skew, 'f', -1, 64))
	if err != nil {
		return row{}, err
	}
	defer p.Stop()
	url := "http://127.0.0.1:" + strconv.Itoa(p.Port) + harness.Path
	clients := newClients(f)
	defer func() {
		for _, c := range clients {
			c.base.CloseIdleConnections()
		}
	}()
	// a server may listen before it serves (gunicorn's worker is still loading): one request at a
	// time until one is answered, at most 60 s; these are not counted
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		err := send(context.Background(), clients[0].holders[0], url)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			return row{}, fmt.Errorf("not ready after 60 s: %w", err)
		}
	}
	marks := map[int]string{*requests / 20: "start", *requests / 2: "middle"}
	rss := map[string]uint64{}
	var rssMu sync.Mutex
	var maxRSS atomic.Uint64
	sample := func(at string) {
		n, err := p.RSSBytes()
		if err != nil {
			return // the server is gone: the requests say so
		}
		rssMu.Lock()
		rss[at] = n
		rssMu.Unlock()
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { // the largest resident memory, sampled every 200 ms
		for t := time.NewTicker(200 * time.Millisecond); ctx.Err() == nil; <-t.C {
			if n, err := p.RSSBytes(); err == nil && n > maxRSS.Load() {
				maxRSS.Store(n)
			}
		}
	}()
	var next, done atomic.Int64
	var first error
	var once sync.Once
	var wg sync.WaitGroup
	begin := time.Now()
	progress := max(*requests/10, 1)
	for _, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ctx.Err() == nil; i++ {
				if n := next.Add(1); n > int64(*requests) {
					return
				}
				if err := send(ctx, c.holders[i%len(c.holders)], url); err != nil {
					if ctx.Err() == nil {
						once.Do(func() { first = err; cancel() })
					}
					return
				}
				d := int(done.Add(1))
				if at, ok := marks[d]; ok {
					sample(at)
				}
				if d%progress == 0 {
					fmt.Fprintf(os.Stderr, "%s: %d requests, %.0f s\n", s.Name, d, time.Since(begin).Seconds())
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(begin).Seconds()
	sample("end")
	cancel()
	if first != nil {
		return row{}, fmt.Errorf("after %d requests answered 200: %w", done.Load(), first)
	}
	if _, err := p.CPUSeconds(); err != nil {
		return row{}, err // the server died after its last answer
	}
	r := row{Impl: s.Name, Op: "http_soak", Requests: *requests, Seconds: elapsed, RPS: float64(*requests) / elapsed,
		Connections: *connections, Holders: *holders, Burners: *burners,
		RSSStartMiB: float64(rss["start"]) / mib, RSSMidMiB: float64(rss["middle"]) / mib,
		RSSEndMiB: float64(rss["end"]) / mib, RSSMaxMiB: float64(maxRSS.Load()) / mib}
	fmt.Fprintf(os.Stderr, "%s: %d requests in %.0f s (%.0f req/s, %d burners), resident MiB start %.1f, middle %.1f, end %.1f, max %.1f\n",
		s.Name, r.Requests, r.Seconds, r.RPS, r.Burners, r.RSSStartMiB, r.RSSMidMiB, r.RSSEndMiB, r.RSSMaxMiB)
	if r.RSSMidMiB == 0 || r.RSSEndMiB == 0 {
		return r, errors.New("resident memory not sampled")
	}
	if limit := r.RSSMidMiB*1.1 + *slackMiB; r.RSSEndMiB > limit {
		return r, fmt.Errorf("resident memory grew: %.1f MiB at the middle, %.1f at the end (limit %.1f)",
			r.RSSMidMiB, r.RSSEndMiB, limit)
	}
	return r, nil
}
