// Package golden holds the helpers of the golden-file tests: cases are
// directories under testdata, compared byte for byte with what the code
// produces. Run a package's tests with -update to rewrite its golden files.
// Only tests import this package.
package golden

import (
	"bytes"
	"errors"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/pvc-guard/pvc-guard/live"
)

// update makes Compare write and AssertAbsent remove golden files instead
// of checking them.
var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// Compare checks got against the golden file at path, or with -update
// writes got to it.
func Compare(t testing.TB, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if want := Read(t, path); !bytes.Equal(got, want) {
		t.Errorf("%s differs (run go test %s -run TestGolden -update to accept)\n--- got:\n%s\n--- want:\n%s", path, pkg(t), got, want)
	}
}

// AssertAbsent checks that no golden file exists at path, or with -update
// removes it.
func AssertAbsent(t testing.TB, path string) {
	t.Helper()
	if *update {
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			t.Fatal(err)
		}
		return
	}
	if _, err := os.Stat(path); err == nil {
		t.Errorf("%s exists but this run did not produce it", path)
	} else if !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
}

// Read returns the file at path, failing the test if it cannot be read.
func Read(t testing.TB, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// Options are a case's options.yaml: the release namespace and the
// renderer's onConflict policy.
type Options struct {
	Namespace  string `yaml:"namespace"`
	OnConflict string `yaml:"onConflict"`
}

// ReadOptions returns defaults overlaid with dir/options.yaml, or defaults
// alone if the case has no options.yaml.
func ReadOptions(t testing.TB, dir string, defaults Options) Options {
	t.Helper()
	opts := defaults
	data, ok := readOptional(t, filepath.Join(dir, "options.yaml"))
	if !ok {
		return opts
	}
	if err := yaml.Unmarshal(data, &opts); err != nil {
		t.Fatalf("options.yaml: %v", err)
	}
	return opts
}

// Snapshot returns the live state of dir/live.yaml, or an empty snapshot
// (no claim exists) if the case has no live.yaml.
func Snapshot(t testing.TB, dir string) *live.Snapshot {
	t.Helper()
	state := live.NewSnapshot()
	data, ok := readOptional(t, filepath.Join(dir, "live.yaml"))
	if !ok {
		return state
	}
	if err := state.Add(data); err != nil {
		t.Fatalf("live.yaml: %v", err)
	}
	return state
}

// readOptional returns the file at path and true, or false if there is
// none; any other error fails the test.
func readOptional(t testing.TB, path string) ([]byte, bool) {
	t.Helper()
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false
	}
	if err != nil {
		t.Fatal(err)
	}
	return data, true
}

// pkg names the package under test as go test takes it from the module
// root, e.g. "./renderer": tests run in their package's directory.
func pkg(t testing.TB) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for root := wd; ; root = filepath.Dir(root) {
		if _, err := os.Stat(filepath.Join(root, "go.mod")); err == nil {
			rel, err := filepath.Rel(root, wd)
			if err != nil {
				t.Fatal(err)
			}
			if rel == "." {
				return "."
			}
			return "./" + filepath.ToSlash(rel)
		}
		if filepath.Dir(root) == root {
			return "." // no go.mod above: name the directory the tests ran in
		}
	}
}
