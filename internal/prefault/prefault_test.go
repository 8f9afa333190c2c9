//go:build linux

package prefault

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// childEnv makes the test binary run allocate() instead of the tests.
const childEnv = "PREFAULT_TEST_CHILD"

func TestMain(m *testing.M) {
	if mode := os.Getenv(childEnv); mode != "" {
		allocate(mode == "prefault")
		return
	}
	os.Exit(m.Run())
}

// sink keeps the child's allocations alive.
var sink [][]byte

// allocate prints the page faults that 16 MiB of small allocations cost,
// after populating 32 MiB of heap first or not.
func allocate(prefault bool) {
	if prefault && !populate(32<<20) {
		fmt.Println("unsupported")
		return
	}
	before := minorFaults()
	for range 100_000 {
		sink = append(sink, make([]byte, 160))
	}
	fmt.Println(minorFaults() - before)
}

func minorFaults() int64 {
	var usage syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &usage); err != nil {
		panic(err)
	}
	return usage.Minflt
}

func faultsIn(t *testing.T, mode string) (int64, bool) {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), childEnv+"="+mode, "GOGC=off")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("child %s: %v", mode, err)
	}
	text := strings.TrimSpace(string(out))
	if text == "unsupported" {
		return 0, false
	}
	n, err := strconv.ParseInt(text, 10, 64)
	if err != nil {
		t.Fatalf("child %s printed %q", mode, text)
	}
	return n, true
}

func TestPopulatedHeapIsReusedWithoutFaults(t *testing.T) {
	cold, _ := faultsIn(t, "cold")
	warm, ok := faultsIn(t, "prefault")
	if !ok {
		t.Skip("this kernel cannot populate memory on request (MADV_POPULATE_WRITE needs Linux 5.14)")
	}
	t.Logf("16 MiB of small allocations: %d page faults cold, %d after populating", cold, warm)
	if warm*2 > cold {
		t.Errorf("populating the heap first saved too few faults: %d cold, %d after", cold, warm)
	}
}
