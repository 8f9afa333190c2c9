package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// fakeRollback writes an executable pvc-guard-rollback into dir that says
// where it is, echoes its arguments and stdin, and exits with code.
func fakeRollback(t *testing.T, dir string, code int) string {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("the fake pvc-guard-rollback is a shell script")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, rollbackBinary)
	script := fmt.Sprintf(`#!/bin/sh
echo "ran $0 with: $*"
while IFS= read -r line; do echo "stdin: $line"; done
echo "rollback's own message" >&2
exit %d
`, code)
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

func symlink(t *testing.T, target, link string) string {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	return link
}

// TestRollbackDispatchFindsTheBinary: next to pvc-guard, also when pvc-guard
// is reached through a link (as in a Helm plugin directory or ~/bin), and
// before $PATH; else on $PATH; else an error that says what to do.
func TestRollbackDispatchFindsTheBinary(t *testing.T) {
	tests := []struct {
		name string
		// setup makes the tree in dir and returns the executable's path
		// and the directory for $PATH.
		setup func(t *testing.T, dir string) (executable, path string)
		want  string // the binary found, relative to dir; "" for an error
	}{
		{
			name: "next to the executable",
			setup: func(t *testing.T, dir string) (string, string) {
				return installed(t, filepath.Join(dir, "bin")), ""
			},
			want: "bin/pvc-guard-rollback",
		},
		{
			name: "next to the file a linked executable points to",
			setup: func(t *testing.T, dir string) (string, string) {
				pvcGuard := installed(t, filepath.Join(dir, "checkout", "bin"))
				os.Mkdir(filepath.Join(dir, "home-bin"), 0o755)
				return symlink(t, pvcGuard, filepath.Join(dir, "home-bin", "pvc-guard")), ""
			},
			want: "checkout/bin/pvc-guard-rollback",
		},
		{
			name: "through a linked plugin directory",
			setup: func(t *testing.T, dir string) (string, string) {
				installed(t, filepath.Join(dir, "checkout", "bin"))
				os.Mkdir(filepath.Join(dir, "plugins"), 0o755)
				plugin := symlink(t, filepath.Join(dir, "checkout"), filepath.Join(dir, "plugins", "pvc-guard"))
				return filepath.Join(plugin, "bin", "pvc-guard"), ""
			},
			want: "checkout/bin/pvc-guard-rollback",
		},
		{
			name: "next to the executable before $PATH",
			setup: func(t *testing.T, dir string) (string, string) {
				fakeRollback(t, filepath.Join(dir, "path"), 0)
				return installed(t, filepath.Join(dir, "bin")), filepath.Join(dir, "path")
			},
			want: "bin/pvc-guard-rollback",
		},
		{
			name: "on $PATH when not next to the executable",
			setup: func(t *testing.T, dir string) (string, string) {
				fakeRollback(t, filepath.Join(dir, "path"), 0)
				return writeExecutable(t, filepath.Join(dir, "bin", "pvc-guard")), filepath.Join(dir, "path")
			},
			want: "path/pvc-guard-rollback",
		},
		{
			name: "a sibling that is not executable does not count",
			setup: func(t *testing.T, dir string) (string, string) {
				os.Chmod(fakeRollback(t, filepath.Join(dir, "bin"), 0), 0o644)
				fakeRollback(t, filepath.Join(dir, "path"), 0)
				return writeExecutable(t, filepath.Join(dir, "bin", "pvc-guard")), filepath.Join(dir, "path")
			},
			want: "path/pvc-guard-rollback",
		},
		{
			name: "nowhere",
			setup: func(t *testing.T, dir string) (string, string) {
				os.Mkdir(filepath.Join(dir, "path"), 0o755)
				return writeExecutable(t, filepath.Join(dir, "bin", "pvc-guard")), filepath.Join(dir, "path")
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, err := filepath.EvalSymlinks(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			executable, path := tt.setup(t, dir)
			t.Setenv("PATH", path)
			o := &RollbackDispatchOptions{Executable: executable}
			err = o.Complete()
			if tt.want == "" {
				if err == nil {
					t.Fatalf("found %s, want an error", o.binary)
				}
				for _, want := range []string{
					"pvc-guard rollback runs pvc-guard-rollback", "next to pvc-guard (in " + filepath.Join(dir, "bin") + ")", "nor on $PATH",
					`"make build"`, "go install github.com/pvc-guard/pvc-guard/cmd/pvc-guard-rollback@latest",
				} {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("error lacks %q: %v", want, err)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if want := filepath.Join(dir, tt.want); o.binary != want {
				t.Errorf("found %s, want %s", o.binary, want)
			}
		})
	}
}

// installed puts pvc-guard and pvc-guard-rollback side by side in dir, as
// make build does, and returns pvc-guard's path.
func installed(t *testing.T, dir string) string {
	t.Helper()
	fakeRollback(t, dir, 0)
	return writeExecutable(t, filepath.Join(dir, "pvc-guard"))
}

// writeExecutable writes a stand-in for pvc-guard itself and returns its path.
func writeExecutable(t *testing.T, path string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestRollbackDispatchRuns: `pvc-guard rollback ARGS` runs the binary with
// ARGS untouched (flags and --help included), the same standard streams,
// and its exit code, adding no message of its own. The test binary has no
// pvc-guard-rollback next to it, so the fake on $PATH runs.
func TestRollbackDispatchRuns(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		exitCode   int
		wantStdout string
	}{
		{name: "arguments and flags untouched", args: []string{"rollback", "app", "1", "--dry-run", "-n", "apps", "--wait=watcher"},
			wantStdout: "with: app 1 --dry-run -n apps --wait=watcher\nstdin: from helm\n"},
		{name: "--help is the rollback's", args: []string{"rollback", "--help"}, wantStdout: "with: --help\n"},
		{name: "so is pvc-guard help rollback", args: []string{"help", "rollback"}, wantStdout: "with: --help\n"},
		{name: "its exit code", args: []string{"rollback", "app"}, exitCode: 3, wantStdout: "with: app\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			isolateEnv(t)
			dir := t.TempDir()
			binary := fakeRollback(t, dir, tt.exitCode)
			t.Setenv("PATH", dir)
			r := run(t, "from helm\n", tt.args...)
			if r.code != tt.exitCode {
				t.Errorf("exit %d, want %d", r.code, tt.exitCode)
			}
			if want := "ran " + binary + " " + tt.wantStdout; !strings.HasPrefix(r.stdout, want) {
				t.Errorf("stdout %q, want it to start with %q", r.stdout, want)
			}
			if r.stderr != "rollback's own message\n" {
				t.Errorf("stderr %q, want the rollback's alone", r.stderr)
			}
		})
	}
}

// TestDispatchWithoutTheBinary: rollback and audit each say, in their own
// words, that they need pvc-guard-rollback and where to get it, on error
// and in their help.
func TestDispatchWithoutTheBinary(t *testing.T) {
	tests := []struct {
		args          []string
		help          []string
		words, others string
	}{
		{[]string{"rollback", "app", "1"}, []string{"rollback", "--help"},
			"pvc-guard rollback runs pvc-guard-rollback", "pvc-guard audit"},
		{[]string{"audit", "-n", "apps"}, []string{"audit", "--help"},
			"pvc-guard audit runs inside pvc-guard-rollback (as pvc-guard-rollback --audit, which reads Helm's release records", "pvc-guard rollback runs"},
	}
	for _, tt := range tests {
		t.Run(tt.args[0], func(t *testing.T) {
			isolateEnv(t)
			t.Setenv("PATH", t.TempDir())
			r := run(t, "", tt.args...)
			r.expect(t, 1, "", "Error: "+tt.words, "nor on $PATH", "make build", "go install github.com/pvc-guard/pvc-guard/cmd/pvc-guard-rollback@")
			help := run(t, "", tt.help...)
			help.expect(t, 0, "Not installed: "+tt.words)
			if strings.Contains(r.stderr+help.stdout, tt.others) {
				t.Errorf("the message speaks of %q:\n%s%s", tt.others, r.stderr, help.stdout)
			}
		})
	}
}

// TestRollbackHelpWithoutTheBinary: help still works, says what the command
// does and where to get pvc-guard-rollback, and exits 0.
func TestRollbackHelpWithoutTheBinary(t *testing.T) {
	for _, args := range [][]string{{"rollback", "--help"}, {"rollback", "app", "-h"}, {"help", "rollback"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			isolateEnv(t)
			t.Setenv("PATH", t.TempDir())
			r := run(t, "", args...)
			if r.code != 0 || r.stderr != "" {
				t.Errorf("exit %d, stderr %q; want 0 and nothing", r.code, r.stderr)
			}
			for _, want := range []string{
				"Usage:\n  pvc-guard rollback RELEASE [REVISION]", `as "helm rollback" does`,
				"Not installed: pvc-guard rollback runs pvc-guard-rollback", "go install github.com/pvc-guard/pvc-guard/cmd/pvc-guard-rollback@",
			} {
				if !strings.Contains(r.stdout, want) {
					t.Errorf("help lacks %q:\n%s", want, r.stdout)
				}
			}
		})
	}
}
