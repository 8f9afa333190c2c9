package renderer_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/pvc-guard/pvc-guard/live"
	"github.com/pvc-guard/pvc-guard/renderer"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/render")

// goldenCase is one directory under testdata/render:
//
//	input.yaml    the rendered stream Helm hands the post-renderer
//	live.yaml     what the cluster holds (absent: no claim exists)
//	options.yaml  renderer options: namespace, onConflict (optional)
//	output.yaml   the expected stream, or
//	error.txt     the expected error (and then no output at all)
//	report.json   the expected report
type goldenCase struct {
	Namespace  string `yaml:"namespace"`
	OnConflict string `yaml:"onConflict"`
}

func TestGolden(t *testing.T) {
	dirs, err := filepath.Glob("../testdata/render/*")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no golden cases found: %v", err)
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			runGolden(t, dir)
		})
	}
}

func runGolden(t *testing.T, dir string) {
	input := readFile(t, filepath.Join(dir, "input.yaml"))
	var opts goldenCase
	if data, err := os.ReadFile(filepath.Join(dir, "options.yaml")); err == nil {
		if err := yaml.Unmarshal(data, &opts); err != nil {
			t.Fatalf("options.yaml: %v", err)
		}
	}
	state := live.NewSnapshot()
	if data, err := os.ReadFile(filepath.Join(dir, "live.yaml")); err == nil {
		if err := state.Add(data); err != nil {
			t.Fatalf("live.yaml: %v", err)
		}
	}
	r := &renderer.Renderer{Live: state, Namespace: opts.Namespace, OnConflict: renderer.ConflictPolicy(opts.OnConflict)}
	out, report, err := r.Render(context.Background(), input)

	if err != nil {
		if out != nil {
			t.Errorf("an error must come with no output, got %d bytes", len(out))
		}
		compareGolden(t, filepath.Join(dir, "error.txt"), []byte(err.Error()+"\n"))
		assertAbsent(t, filepath.Join(dir, "output.yaml"))
	} else {
		compareGolden(t, filepath.Join(dir, "output.yaml"), out)
		assertAbsent(t, filepath.Join(dir, "error.txt"))
	}
	if report != nil {
		data, _ := json.MarshalIndent(report, "", "  ")
		compareGolden(t, filepath.Join(dir, "report.json"), append(data, '\n'))
	}
}

func compareGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want := readFile(t, path)
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (run go test ./renderer -run TestGolden -update to accept)\n--- got:\n%s\n--- want:\n%s", path, got, want)
	}
}

func assertAbsent(t *testing.T, path string) {
	t.Helper()
	if *update {
		os.Remove(path)
		return
	}
	if _, err := os.Stat(path); err == nil {
		t.Errorf("%s exists but the render did not produce it", path)
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
