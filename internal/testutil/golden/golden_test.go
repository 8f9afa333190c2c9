package golden

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// recorder is a testing.TB that keeps the errors and cleanups of a case,
// so a test can check what a Case would fail with.
type recorder struct {
	testing.TB
	errors   []string
	cleanups []func()
}

func (r *recorder) Helper()                   {}
func (r *recorder) Failed() bool              { return len(r.errors) > 0 }
func (r *recorder) Cleanup(f func())          { r.cleanups = append(r.cleanups, f) }
func (r *recorder) Errorf(f string, a ...any) { r.errors = append(r.errors, fmt.Sprintf(f, a...)) }
func (r *recorder) Fatal(a ...any)            { panic(fmt.Sprint(a...)) }

func (r *recorder) end() {
	for i := len(r.cleanups) - 1; i >= 0; i-- {
		r.cleanups[i]()
	}
}

func TestCaseUntouchedFiles(t *testing.T) {
	cases := []struct {
		name  string
		files []string // in the case directory
		run   func(c *Case)
		stale []string // files the case must fail for
	}{
		{"every file used", []string{"input.yaml", "output.yaml"}, func(c *Case) {
			c.Read("input.yaml")
			c.Compare("output.yaml", []byte("x"))
		}, nil},
		{"an expected report the run does not produce", []string{"input.yaml", "error.txt", "report.json"}, func(c *Case) {
			c.Read("input.yaml")
			c.Compare("error.txt", []byte("x"))
		}, []string{"report.json"}},
		{"output and error both expected", []string{"input.yaml", "output.yaml", "error.txt"}, func(c *Case) {
			c.Read("input.yaml")
			c.Compare("output.yaml", []byte("x"))
		}, []string{"error.txt"}},
		{"optional inputs and files the code reads", []string{"input.yaml", "options.yaml", "live.yaml", "extra.yaml"}, func(c *Case) {
			c.Read("input.yaml")
			c.Options(Options{})
			c.Snapshot()
			c.Path("extra.yaml")
		}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for _, name := range tc.files {
				content := "x" // what the runs below compare expected outputs with
				if name == "options.yaml" || name == "live.yaml" {
					content = "{}\n"
				}
				if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			r := &recorder{TB: t}
			tc.run(NewCase(r, dir))
			r.end()
			if len(r.errors) != len(tc.stale) {
				t.Fatalf("got errors %q, want one for each of %q", r.errors, tc.stale)
			}
			for i, name := range tc.stale {
				if !strings.Contains(r.errors[i], filepath.Join(dir, name)+" is neither read") {
					t.Errorf("error %d = %q, want it to name %s", i, r.errors[i], name)
				}
			}
		})
	}
}
