package renderer_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/pvc-guard/pvc-guard/internal/golden"
	"github.com/pvc-guard/pvc-guard/renderer"
)

// TestGolden runs each directory under testdata/render:
//
//	input.yaml    the rendered stream Helm hands the post-renderer
//	live.yaml     what the cluster holds (absent: no claim exists)
//	options.yaml  renderer options: namespace, onConflict (optional)
//	output.yaml   the expected stream, or
//	error.txt     the expected error (and then no output at all)
//	report.json   the expected report
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
	input := golden.Read(t, filepath.Join(dir, "input.yaml"))
	opts := golden.ReadOptions(t, dir, golden.Options{})
	r := &renderer.Renderer{Live: golden.Snapshot(t, dir), Namespace: opts.Namespace, OnConflict: renderer.ConflictPolicy(opts.OnConflict)}
	out, report, err := r.Render(context.Background(), input)

	if err != nil {
		if out != nil {
			t.Errorf("an error must come with no output, got %d bytes", len(out))
		}
		golden.Compare(t, filepath.Join(dir, "error.txt"), []byte(err.Error()+"\n"))
		golden.AssertAbsent(t, filepath.Join(dir, "output.yaml"))
	} else {
		golden.Compare(t, filepath.Join(dir, "output.yaml"), out)
		golden.AssertAbsent(t, filepath.Join(dir, "error.txt"))
	}
	if report != nil {
		data, err := json.MarshalIndent(report, "", "  ")
		if err != nil {
			t.Fatalf("encoding the report: %v", err)
		}
		golden.Compare(t, filepath.Join(dir, "report.json"), append(data, '\n'))
	}
}
