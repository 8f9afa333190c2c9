// Command bench measures pvc-guard as Helm runs a post-renderer: the stream
// is piped into the process and its output piped into a reader. `cat`, the
// identity post-renderer, runs the same way in the same run, so the ratio
// between the two is what this machine says, not a guess.
//
//	go run ./hack/bench -pvc-guard bin/pvc-guard
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

// Targets from the core issue.
const (
	maxRatioToCat = 3.0  // on the largest stream
	maxGrowth     = 12.0 // cost of 10x the documents
)

func main() {
	binary := flag.String("pvc-guard", "bin/pvc-guard", "the pvc-guard binary to measure")
	runs := flag.Int("runs", 7, "runs per command and size; the median counts")
	sizes := flag.String("docs", "10000,100000", "stream sizes in documents, comma-separated")
	flag.Parse()
	if err := run(*binary, *runs, *sizes); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

type measurement struct {
	docs          int
	bytes         int
	cat, pvcGuard time.Duration
}

func run(binary string, runs int, sizes string) error {
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
		m, err := measure(binary, dir, docs, runs)
		if err != nil {
			return err
		}
		results = append(results, m)
	}
	report(results)
	return nil
}

func measure(binary, dir string, docs, runs int) (measurement, error) {
	stream, live := benchdata.Stream(docs)
	livePath := filepath.Join(dir, fmt.Sprintf("live-%d.yaml", docs))
	if err := os.WriteFile(livePath, live, 0o644); err != nil {
		return measurement{}, err
	}
	pvcGuard := []string{binary, "--namespace", benchdata.Namespace, "--live-state", livePath}
	var catTimes, pvcTimes []time.Duration
	// Interleave the two commands so drift in machine load hits both alike.
	for range runs {
		t, out, err := timePipe(stream, "cat")
		if err != nil {
			return measurement{}, err
		}
		if out != len(stream) {
			return measurement{}, fmt.Errorf("cat wrote %d of %d bytes", out, len(stream))
		}
		catTimes = append(catTimes, t)
		if t, out, err = timePipe(stream, pvcGuard...); err != nil {
			return measurement{}, err
		}
		if out <= len(stream) {
			return measurement{}, fmt.Errorf("pvc-guard wrote %d bytes for %d in: the claims were not rewritten", out, len(stream))
		}
		pvcTimes = append(pvcTimes, t)
	}
	return measurement{docs: docs, bytes: len(stream), cat: median(catTimes), pvcGuard: median(pvcTimes)}, nil
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

func report(results []measurement) {
	fmt.Println("| documents | stream | cat | pvc-guard | pvc-guard throughput | ratio to cat |")
	fmt.Println("|---:|---:|---:|---:|---:|---:|")
	for _, m := range results {
		mb := float64(m.bytes) / 1e6
		fmt.Printf("| %d | %.1f MB | %s | %s | %.0f MB/s | %.2fx |\n", m.docs, mb,
			m.cat.Round(time.Millisecond), m.pvcGuard.Round(time.Millisecond),
			mb/m.pvcGuard.Seconds(), ratio(m.pvcGuard, m.cat))
	}
	if len(results) < 2 {
		return
	}
	first, last := results[0], results[len(results)-1]
	growth := ratio(last.pvcGuard, first.pvcGuard)
	fmt.Printf("\nratio to cat on %d documents: %.2fx (target <= %.0fx): %s\n", last.docs, ratio(last.pvcGuard, last.cat), maxRatioToCat, verdict(ratio(last.pvcGuard, last.cat) <= maxRatioToCat))
	fmt.Printf("growth from %d to %d documents: %.1fx (target <= %.0fx): %s\n", first.docs, last.docs, growth, maxGrowth, verdict(growth <= maxGrowth))
}

func ratio(a, b time.Duration) float64 { return a.Seconds() / b.Seconds() }

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "MISSED"
}
