// Package harness holds what the HTTP servers' bench (bench/http) and the HTTP soak
// (bench/http/soak) share: the HTTP matrix's servers (tests/http-matrix/README.md) started as
// subprocesses, their CPU time and resident memory read from /proc, and the holders' keys and
// tokens that sign requests for them.
package harness

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"go.trustcore.dev/trustcore"
)

// Path is the route every load sends, with Payload as its body (the matrix's body, under
// routes.json's max_body_bytes); a holder's token grants exactly it.
const (
	Path    = "/lease/a"
	Payload = `{"episode":"e1"}`
	// Linux reports utime and stime in USER_HZ ticks, 100 a second on every architecture's ABI
	userHZ = 100
)

// Server is one of the matrix's servers: its name (the row's impl), its
// TRUSTCORE_MATRIX_FRAMEWORK (the part of the name after its last '-') and its command.
type Server struct {
	Name, Framework string
	Argv            []string
}

// ParseServers reads `name=command;name=command` (the matrix's MATRIX_SERVERS form; each command
// split on spaces), keeping only the names in only (comma-separated) when it names any.
func ParseServers(spec, only string) ([]Server, error) {
	var out []Server
	keep := map[string]bool{}
	for _, n := range strings.Split(only, ",") {
		if n = strings.TrimSpace(n); n != "" {
			keep[n] = true
		}
	}
	for _, item := range strings.Split(spec, ";") {
		if strings.TrimSpace(item) == "" {
			continue
		}
		name, command, ok := strings.Cut(item, "=")
		name = strings.TrimSpace(name)
		argv := strings.Fields(command)
		if !ok || name == "" || len(argv) == 0 {
			return nil, fmt.Errorf("-servers: %q is not name=command", item)
		}
		if len(keep) > 0 && !keep[name] {
			continue
		}
		out = append(out, Server{Name: name, Framework: name[strings.LastIndex(name, "-")+1:], Argv: argv})
	}
	if len(out) == 0 {
		return nil, errors.New("-servers names no server")
	}
	return out, nil
}

// Fixture: the holders' keys and tokens (bench/README.md's issuer and holder seeds, then holders
// 2… from seeds of their own), each token granting POST /lease/a under tests/http-matrix/routes.json.
type Fixture struct {
	IssuerHex string
	Keys      []*trustcore.WorkerKey
	Tokens    []string
}

// NewFixture makes holders holders (at most 200: each seed is one byte), tokens valid for an hour.
func NewFixture(holders int) (*Fixture, error) {
	if holders < 1 || holders > 200 {
		return nil, fmt.Errorf("holders: %d is not between 1 and 200", holders)
	}
	issuer, err := trustcore.IssuerKeyFromSecretHex(strings.Repeat("11", 32))
	if err != nil {
		return nil, err
	}
	defer issuer.Close()
	f := &Fixture{}
	if f.IssuerHex, err = issuer.PublicHex(); err != nil {
		return nil, err
	}
	expires := float64(time.Now().Unix() + 3600)
	for i := 0; i < holders; i++ {
		key, err := trustcore.WorkerKeyFromSecretHex(strings.Repeat(fmt.Sprintf("%02x", 0x22+i), 32))
		if err != nil {
			return nil, err
		}
		public, err := key.PublicHex()
		if err != nil {
			return nil, err
		}
		token, err := issuer.Mint(trustcore.MintRequest{PublicHex: public, HolderID: fmt.Sprintf("gpu-%d", i+1),
			Facts:        []trustcore.Fact{{Predicate: "right", Values: []string{"lease"}}, {Predicate: "lane", Values: []string{"a"}}},
			RevocationID: fmt.Sprintf("rev-%d", i+1), ExpiresAt: expires})
		if err != nil {
			return nil, err
		}
		f.Keys, f.Tokens = append(f.Keys, key), append(f.Tokens, token)
	}
	return f, nil
}

// Process is one server process (its own process group).
type Process struct {
	cmd  *exec.Cmd
	Port int
}

// Start runs s with the matrix's environment (memory stores, never an inherited Redis or mode;
// plus extra, `NAME=value` each) and waits for its `LISTENING <port>` line, at most 60 s.
func Start(s Server, issuerHex, policy string, extra ...string) (*Process, error) {
	cmd := exec.Command(s.Argv[0], s.Argv[1:]...)
	env := []string{}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "TRUSTCORE_MATRIX_") {
			env = append(env, kv)
		}
	}
	env = append(env, "TRUSTCORE_MATRIX_ISSUER_PUBLIC="+issuerHex, "TRUSTCORE_MATRIX_POLICY="+policy,
		"TRUSTCORE_MATRIX_FRAMEWORK="+s.Framework)
	cmd.Env = append(env, extra...)
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s: %w", s.Name, err)
	}
	p := &Process{cmd: cmd}
	lines := bufio.NewReader(stdout)
	got := make(chan error, 1)
	go func() {
		line, err := lines.ReadString('\n')
		if err == nil {
			if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "LISTENING "); ok {
				p.Port, err = strconv.Atoi(rest)
			} else {
				err = fmt.Errorf("first line %q is not LISTENING <port>", line)
			}
		}
		got <- err
		_, _ = io.Copy(io.Discard, lines) // whatever else it prints, it never blocks on a full pipe
	}()
	select {
	case err = <-got:
	case <-time.After(60 * time.Second):
		err = errors.New("no LISTENING line in 60 s")
	}
	if err != nil {
		p.Stop()
		return nil, fmt.Errorf("%s: %w", s.Name, err)
	}
	return p, nil
}

// Stop: SIGTERM to the server's process group (gunicorn's worker too), SIGKILL after 10 s.
func (p *Process) Stop() {
	pgid := p.cmd.Process.Pid
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		<-done
	}
}

// tree is the server process and all its live descendants (gunicorn's worker is the arbiter's
// child), each with its /proc/<pid>/stat fields after the command name.
func (p *Process) tree() (map[int][]string, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	children := map[int][]int{}
	stats := map[int][]string{}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue // gone meanwhile
		}
		// pid (comm) state ppid …: comm may hold spaces and ')'
		fields := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
		if len(fields) < 22 {
			continue
		}
		ppid, _ := strconv.Atoi(fields[1])
		children[ppid] = append(children[ppid], pid)
		stats[pid] = fields
	}
	root := p.cmd.Process.Pid
	if _, ok := stats[root]; !ok {
		return nil, fmt.Errorf("server process %d is gone", root)
	}
	out := map[int][]string{}
	for todo := []int{root}; len(todo) > 0; {
		pid := todo[len(todo)-1]
		todo = append(todo[:len(todo)-1], children[pid]...)
		out[pid] = stats[pid]
	}
	return out, nil
}

// CPUSeconds is utime + stime of the server's process tree: every thread's, exited threads included
// (fields 14 and 15 of stat).
func (p *Process) CPUSeconds() (float64, error) {
	tree, err := p.tree()
	if err != nil {
		return 0, err
	}
	var total uint64
	for _, fields := range tree {
		utime, _ := strconv.ParseUint(fields[11], 10, 64)
		stime, _ := strconv.ParseUint(fields[12], 10, 64)
		total += utime + stime
	}
	return float64(total) / userHZ, nil
}

// RSSBytes is the resident memory of the server's process tree (field 24 of stat, in pages).
func (p *Process) RSSBytes() (uint64, error) {
	tree, err := p.tree()
	if err != nil {
		return 0, err
	}
	var pages uint64
	for _, fields := range tree {
		n, _ := strconv.ParseUint(fields[21], 10, 64)
		pages += n
	}
	return pages * uint64(os.Getpagesize()), nil
}

// Send sends req on c and reads the whole answer: an error unless it is 200.
func Send(c *http.Client, req *http.Request) error {
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d: %s", resp.StatusCode, strings.TrimSpace(string(body)))
	}
	return nil
}
