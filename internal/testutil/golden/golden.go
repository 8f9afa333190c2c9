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
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/pvc-guard/pvc-guard/live"
	"github.com/pvc-guard/pvc-guard/renderer"
)

// update makes Compare write golden files, and a Case remove the files its
// run did not produce, instead of checking them.
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

// Case is one case directory of a golden test. Every file in it must be an
// input the test reads or an output the run produces: when the test ends, a
// file it never touched fails the test (with -update it is removed), so an
// expected output the code stopped producing cannot linger unchecked.
type Case struct {
	t    testing.TB
	Dir  string
	used map[string]bool
}

// Run runs one subtest per case directory that pattern matches (a
// filepath.Glob pattern such as ../testdata/render/*), each with its Case:
// the golden runner every package's TestGolden shares.
func Run(t *testing.T, pattern string, run func(t *testing.T, c *Case)) {
	t.Helper()
	dirs, err := filepath.Glob(pattern)
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no golden cases match %s: %v", pattern, err)
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			run(t, NewCase(t, dir))
		})
	}
}

// NewCase opens the case directory dir; the check for untouched files runs
// when t ends, unless t already failed.
func NewCase(t testing.TB, dir string) *Case {
	t.Helper()
	c := &Case{t: t, Dir: dir, used: map[string]bool{}}
	t.Cleanup(c.checkUntouched)
	return c
}

// Path names a file of the case and records it as used: an input the code
// under test reads by itself (a file a config names).
func (c *Case) Path(name string) string {
	c.used[name] = true
	return filepath.Join(c.Dir, name)
}

// Read returns the case's input file name, failing the test if it cannot
// be read.
func (c *Case) Read(name string) []byte {
	c.t.Helper()
	return Read(c.t, c.Path(name))
}

// Compare checks got against the case's expected output name (see Compare).
func (c *Case) Compare(name string, got []byte) {
	c.t.Helper()
	Compare(c.t, c.Path(name), got)
}

// Options returns ReadOptions of the case, recording options.yaml as read.
func (c *Case) Options(defaults Options) Options {
	c.t.Helper()
	c.Path("options.yaml")
	return ReadOptions(c.t, c.Dir, defaults)
}

// Snapshot returns Snapshot of the case, recording live.yaml as read.
func (c *Case) Snapshot() *live.Snapshot {
	c.t.Helper()
	c.Path("live.yaml")
	return Snapshot(c.t, c.Dir)
}

func (c *Case) checkUntouched() {
	if c.t.Failed() {
		return // the failure says more than a list of files would
	}
	entries, err := os.ReadDir(c.Dir)
	if err != nil {
		c.t.Fatal(err)
	}
	for _, e := range entries {
		if c.used[e.Name()] {
			continue
		}
		path := filepath.Join(c.Dir, e.Name())
		if !*update {
			c.t.Errorf("%s is neither read by the test nor produced by this run: remove it, or run go test %s -run TestGolden -update", path, pkg(c.t))
			continue
		}
		if err := os.RemoveAll(path); err != nil {
			c.t.Fatal(err)
		}
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
	// Rules are rule set files of the case, or builtin:NAME sets, added to
	// the default rules as --rules adds them.
	Rules []string `yaml:"rules"`
	// KubeVersion is the API server version the rules assume.
	KubeVersion string `yaml:"kubeVersion"`
}

// RuleSets loads the default rules and the case's Rules, recording the
// case's files as read.
func (c *Case) RuleSets(opts Options) ([]*renderer.RuleSet, error) {
	for _, ref := range opts.Rules {
		if !strings.HasPrefix(ref, renderer.BuiltinPrefix) {
			c.Path(ref)
		}
	}
	return RuleSets(c.Dir, opts)
}

// RuleSets loads the default rules and the Rules of the case in dir.
func RuleSets(dir string, opts Options) ([]*renderer.RuleSet, error) {
	refs := make([]string, len(opts.Rules))
	for i, ref := range opts.Rules {
		refs[i] = ref
		if !strings.HasPrefix(ref, renderer.BuiltinPrefix) {
			refs[i] = filepath.Join(dir, ref)
		}
	}
	return renderer.LoadRuleSets(refs)
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
