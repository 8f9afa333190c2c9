// Command bench measures pvc-guard as Helm runs a post-renderer: the stream
// is piped into the process and its output piped into a reader. `cat`, the
// identity post-renderer, runs the same way in the same run, so the ratio
// between the two is what this machine says, not a guess. With -baseline,
// an older pvc-guard binary runs in the same rounds too, so a change's cost
// is measured under the same machine load as the code before it.
//
//	go run ./hack/bench -pvc-guard bin/pvc-guard
//	go run ./hack/bench -pvc-guard bin/pvc-guard -baseline /tmp/pvc-guard-old
//	go run ./hack/bench -pvc-guard bin/pvc-guard -- --rules builtin:workloads
//
// Arguments after the flags go to the -pvc-guard binary only: a baseline
// may not know them.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pvc-guard/pvc-guard/internal/testutil/benchdata"
)

// Targets from the core issue, and the budget of issue 11 for a change
// measured against a baseline.
const (
	maxRatioToCat  = 3.0  // on the largest stream
	maxGrowth      = 12.0 // cost of 10x the documents
	maxRatioGrowth = 1.25 // ratio to cat, after over before
)

func main() {
	binary := flag.String("pvc-guard", "bin/pvc-guard", "the pvc-guard binary to measure")
	baseline := flag.String("baseline", "", "an older pvc-guard binary to measure in the same rounds (optional)")
	runs := flag.Int("runs", 7, "runs per command and size; the median counts")
	sizes := flag.String("docs", "10000,100000", "stream sizes in documents, comma-separated")
	flag.Parse()
	b := bench{binary: *binary, baseline: *baseline, args: flag.Args(), runs: *runs}
	if err := b.run(*sizes); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

type bench struct {
	binary, baseline string
	args             []string // extra arguments for binary
	runs             int
}

// measurement is the median wall time of each command on one stream.
type measurement struct {
	docs, bytes          int
	cat, pvcGuard, based time.Duration // based is the baseline's, zero without one
}

func (b bench) run(sizes string) error {
	dir, err := os.MkdirTemp("", "pvc-guard-bench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	var results []measurement
	for _, field := range strings.Split(sizes, ",") {
		docs, err := strconv.Atoi(strings.TrimSpace(field))
		if err != nil {
			return fmt.Errorf("bad -docs value %q: %w", field, err)
		}
		m, err := b.measure(dir, docs)
		if err != nil {
			return err
		}
		results = append(results, m)
	}
	b.report(results)
	return nil
}

func (b bench) measure(dir string, docs int) (measurement, error) {
	stream, live := benchdata.Stream(docs)
	livePath := filepath.Join(dir, fmt.Sprintf("live-%d.yaml", docs))
	if err := os.WriteFile(livePath, live, 0o644); err != nil {
		return measurement{}, err
	}
	common := []string{"--namespace", benchdata.Namespace, "--live-state", livePath}
	commands := [][]string{
		{"cat"},
		append(append([]string{b.binary}, common...), b.args...),
	}
	if b.baseline != "" {
		commands = append(commands, append([]string{b.baseline}, common...))
	}
	times := make([][]time.Duration, len(commands))
	// Interleave the commands so drift in machine load hits all alike.
	for range b.runs {
		for i, argv := range commands {
			t, out, err := timePipe(stream, argv...)
			if err != nil {
				return measurement{}, err
			}
			switch {
			case i == 0 && out != len(stream):
				return measurement{}, fmt.Errorf("cat wrote %d of %d bytes", out, len(stream))
			case i > 0 && out <= len(stream):
				return measurement{}, fmt.Errorf("%s wrote %d bytes for %d in: the claims were not rewritten", argv[0], out, len(stream))
			}
			times[i] = append(times[i], t)
		}
	}
	m := measurement{docs: docs, bytes: len(stream), cat: median(times[0]), pvcGuard: median(times[1])}
	if b.baseline != "" {
		m.based = median(times[2])
	}
	return m, nil
}

// timePipe runs a command with stream piped to stdin and stdout drained by
// a reader, and returns the wall time from start to the reader's last byte.
func timePipe(stream []byte, argv ...string) (time.Duration, int, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdin = bytes.NewReader(stream)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return 0, 0, err
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, 0, fmt.Errorf("starting %s: %w", argv[0], err)
	}
	n, copyErr := io.Copy(io.Discard, stdout)
	waitErr := cmd.Wait()
	elapsed := time.Since(start)
	if waitErr != nil {
		return 0, 0, fmt.Errorf("%s: %w: %s", argv[0], waitErr, stderr.String())
	}
	return elapsed, int(n), copyErr
}

func median(times []time.Duration) time.Duration {
	sorted := slices.Clone(times)
	slices.Sort(sorted)
	return sorted[len(sorted)/2]
}

func (b bench) report(results []measurement) {
	fmt.Println("| documents | stream | cat | binary | time | throughput | ratio to cat |")
	fmt.Println("|---:|---:|---:|---|---:|---:|---:|")
	for _, m := range results {
		row := func(name string, t time.Duration) {
			mb := float64(m.bytes) / 1e6
			fmt.Printf("| %d | %.1f MB | %s | %s | %s | %.0f MB/s | %.2fx |\n", m.docs, mb, m.cat.Round(time.Millisecond),
				name, t.Round(time.Millisecond), mb/t.Seconds(), ratio(t, m.cat))
		}
		if b.baseline != "" {
			row("baseline", m.based)
		}
		row(strings.Join(append([]string{"pvc-guard"}, b.args...), " "), m.pvcGuard)
	}
	last := results[len(results)-1]
	fmt.Println()
	if b.baseline != "" {
		growth := ratio(last.pvcGuard, last.based) // the ratios share cat's time
		fmt.Printf("ratio to cat on %d documents: %.2fx, baseline %.2fx: %+.0f%% (budget <= %+.0f%%): %s\n", last.docs,
			ratio(last.pvcGuard, last.cat), ratio(last.based, last.cat), 100*(growth-1), 100*(maxRatioGrowth-1), verdict(growth <= maxRatioGrowth))
	}
	fmt.Printf("ratio to cat on %d documents: %.2fx (target <= %.0fx): %s\n", last.docs, ratio(last.pvcGuard, last.cat), maxRatioToCat, verdict(ratio(last.pvcGuard, last.cat) <= maxRatioToCat))
	if len(results) < 2 {
		return
	}
	first := results[0]
	growth := ratio(last.pvcGuard, first.pvcGuard)
	fmt.Printf("growth from %d to %d documents: %.1fx (target <= %.0fx): %s\n", first.docs, last.docs, growth, maxGrowth, verdict(growth <= maxGrowth))
}

func ratio(a, b time.Duration) float64 { return a.Seconds() / b.Seconds() }

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "MISSED"
}
