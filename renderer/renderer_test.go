package renderer_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	postrenderv3 "helm.sh/helm/v3/pkg/postrender"
	postrenderv4 "helm.sh/helm/v4/pkg/postrenderer"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/pvc-guard/pvc-guard/live"
	"github.com/pvc-guard/pvc-guard/renderer"
)

// Go programs that embed Helm 3 or Helm 4 can use the renderer directly.
var (
	_ postrenderv3.PostRenderer = (*renderer.Renderer)(nil)
	_ postrenderv4.PostRenderer = (*renderer.Renderer)(nil)
)

const boundClaim = `apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data, namespace: apps}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
  storageClassName: manual
  volumeMode: Filesystem
  volumeName: pv-data
status: {phase: Bound}
`

const chartClaim = `---
# Source: app/templates/pvc.yaml
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: data
spec:
  accessModes: [ReadWriteOnce]
  resources:
    requests:
      storage: 1Gi
`

func snapshot(t testing.TB, docs string) *live.Snapshot {
	t.Helper()
	s := live.NewSnapshot()
	if err := s.Add([]byte(docs)); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestRunImplementsHelmPostRenderer(t *testing.T) {
	r := &renderer.Renderer{Live: snapshot(t, boundClaim), Namespace: "apps"}
	out, err := r.Run(bytes.NewBufferString(chartClaim))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(out.Bytes(), []byte("volumeName: pv-data")) {
		t.Errorf("volumeName not preserved:\n%s", out)
	}
}

// failingState stands for an unreachable API server.
type failingState struct{}

var errUnreachable = errors.New("connection refused")

func (failingState) Objects(context.Context, renderer.GroupKind, []renderer.ObjectKey) (map[renderer.ObjectKey]*unstructured.Unstructured, error) {
	return nil, errUnreachable
}

func TestLiveStateErrorsStopTheRender(t *testing.T) {
	r := &renderer.Renderer{Live: failingState{}, Namespace: "apps"}
	out, err := r.Run(bytes.NewBufferString(chartClaim))
	if !errors.Is(err, errUnreachable) || out != nil {
		t.Fatalf("got out=%v err=%v, want no output and the live-state error", out, err)
	}
}

func TestStreamsWithoutClaimsNeverAskTheCluster(t *testing.T) {
	in := "---\n# Source: app/templates/cm.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n"
	out, _, err := (&renderer.Renderer{Live: failingState{}}).Render(context.Background(), []byte(in))
	if err != nil || string(out) != in {
		t.Fatalf("got %q, %v; want the input back and no lookup", out, err)
	}
}

// FuzzRender feeds arbitrary streams through the renderer against a live
// bound claim. It must never panic; on success every document it did not
// rewrite comes back byte for byte, and rendering the output again changes
// nothing (the rewrite is a fixed point).
func FuzzRender(f *testing.F) {
	inputs, _ := filepath.Glob("../testdata/render/*/input.yaml")
	for _, path := range inputs {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(chartClaim))
	state := snapshot(f, boundClaim)
	f.Fuzz(func(t *testing.T, in []byte) {
		r := &renderer.Renderer{Live: state, Namespace: "apps", OnConflict: renderer.KeepLive}
		out, report, err := r.Render(context.Background(), in)
		if err != nil {
			if out != nil {
				t.Fatalf("error %v came with output", err)
			}
			return
		}
		rewritten := map[int]bool{}
		for _, f := range report.Rewrites {
			rewritten[f.Document] = true
		}
		inDocs, outDocs := renderer.SplitForTest(in), renderer.SplitForTest(out)
		if len(inDocs) != len(outDocs) {
			t.Fatalf("document count changed from %d to %d", len(inDocs), len(outDocs))
		}
		for i := range inDocs {
			if !rewritten[i] && !bytes.Equal(inDocs[i], outDocs[i]) {
				t.Fatalf("untouched document %d changed:\n%q\n%q", i, inDocs[i], outDocs[i])
			}
		}
		again, _, err := r.Render(context.Background(), out)
		if err != nil {
			t.Fatalf("rendering the output again failed: %v\n%s", err, out)
		}
		if !bytes.Equal(again, out) {
			t.Fatalf("second render changed the output:\n%s\n---- became ----\n%s", out, again)
		}
	})
}
