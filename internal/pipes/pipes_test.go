package pipes

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"golang.org/x/sys/unix"
)

func TestWidenGrowsPipesAndLeavesFilesAlone(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("pipe sizes are a Linux feature")
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	Widen(r)
	if got, err := unix.FcntlInt(r.Fd(), unix.F_GETPIPE_SZ, 0); err != nil || got < Size {
		t.Errorf("pipe buffer is %d bytes (%v), want at least %d", got, err, Size)
	}
	file, err := os.Create(filepath.Join(t.TempDir(), "regular"))
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	Widen(file) // must not fail or change anything on a regular file
	if _, err := file.WriteString("still writable"); err != nil {
		t.Error(err)
	}
}
