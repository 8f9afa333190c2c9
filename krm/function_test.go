package krm_test

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/pvc-guard/pvc-guard/internal/testutil/golden"
	"github.com/pvc-guard/pvc-guard/krm"
	"github.com/pvc-guard/pvc-guard/live"
	"github.com/pvc-guard/pvc-guard/renderer"
)

// TestGolden runs each directory under testdata/krm:
//
//	input.yaml   the ResourceList on stdin
//	cluster.yaml what the cluster holds, as the function's Live (optional;
//	             cases may name their own liveState files instead)
//	output.yaml  the expected stdout: a ResourceList, also on error
//	error.txt    the expected error, when the function must exit non-zero
//
// Any other file, or an expected output the run does not produce, fails
// the case (-update removes it).
//
// Relative liveState paths in a functionConfig start at the case directory.
func TestGolden(t *testing.T) {
	golden.Run(t, "../testdata/krm/*", func(t *testing.T, c *golden.Case) {
		fn := &krm.Function{Namespace: "default", Dir: c.Dir}
		if data, err := os.ReadFile(c.Path("cluster.yaml")); err == nil {
			state := live.NewSnapshot()
			if err := state.Add(data); err != nil {
				t.Fatalf("cluster.yaml: %v", err)
			}
			fn.Live = state
		} else if !errors.Is(err, fs.ErrNotExist) {
			t.Fatal(err)
		}
		input := c.Read("input.yaml")
		for _, name := range configFiles(t, input) {
			c.Path(name) // read by the function itself
		}
		var out bytes.Buffer
		_, err := fn.Run(context.Background(), input, &out)
		c.Compare("output.yaml", out.Bytes())
		if err != nil {
			c.Compare("error.txt", []byte(err.Error()+"\n"))
		}
	})
}

// configFiles returns the files the functionConfig of a ResourceList names
// in data.liveState and data.rules, which the function reads from the case
// directory.
func configFiles(t *testing.T, input []byte) []string {
	t.Helper()
	list, err := yaml.Parse(string(input))
	if err != nil {
		return nil // a malformed-input case: the function reads nothing
	}
	var names []string
	for _, key := range []string{"liveState", "rules"} {
		value, err := list.Pipe(yaml.Lookup("functionConfig", "data", key))
		if err != nil || value == nil {
			continue
		}
		for _, name := range strings.Split(yaml.GetValue(value), ",") {
			if name = strings.TrimSpace(name); name != "" && !strings.HasPrefix(name, renderer.BuiltinPrefix) {
				names = append(names, name)
			}
		}
	}
	return names
}

// TestSameAsPostRenderer runs every successful post-renderer golden case
// (testdata/render) through the function, its documents as the items, and
// expects the items the post-renderer's output parses to.
func TestSameAsPostRenderer(t *testing.T) {
	dirs, err := filepath.Glob("../testdata/render/*")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no render cases found: %v", err)
	}
	for _, dir := range dirs {
		if _, err := os.Stat(filepath.Join(dir, "output.yaml")); err != nil {
			continue // an error case: the renderer's own tests cover it
		}
		t.Run(filepath.Base(dir), func(t *testing.T) {
			items, err := parseStream(golden.Read(t, filepath.Join(dir, "input.yaml")))
			if err != nil {
				t.Skipf("kyaml cannot read this stream as items, so no orchestrator could send it: %v", err)
			}
			opts := golden.ReadOptions(t, dir, golden.Options{})
			rules, err := golden.RuleSets(dir, opts)
			if err != nil {
				t.Fatal(err)
			}
			fn := &krm.Function{Namespace: opts.Namespace, OnConflict: renderer.ConflictPolicy(opts.OnConflict),
				Live: golden.Snapshot(t, dir), Rules: rules, KubeVersion: opts.KubeVersion, Snapshot: true}
			var out bytes.Buffer
			if _, err := fn.Run(context.Background(), resourceList(t, items), &out); err != nil {
				t.Fatalf("function failed: %v\n%s", err, out.String())
			}
			got := itemsOf(t, out.Bytes())
			want, err := parseStream(golden.Read(t, filepath.Join(dir, "output.yaml")))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(values(t, got), values(t, want)) {
				t.Errorf("items differ from the post-renderer's output\n--- function:\n%s\n--- post-renderer:\n%s", out.String(), golden.Read(t, filepath.Join(dir, "output.yaml")))
			}
		})
	}
}

func TestIsResourceList(t *testing.T) {
	cases := []struct {
		name string
		in   string
		want bool
	}{
		{"kustomize's input", "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: []\n", true},
		{"kind first, comments, separator", "# generated\n---\nkind: ResourceList # the wrapper\napiVersion: config.kubernetes.io/v1\n", true},
		{"quoted values and CRLF", "apiVersion: \"config.kubernetes.io/v1\"\r\nkind: 'ResourceList'\r\n", true},
		{"keys after items", "items:\n- apiVersion: v1\n  kind: ConfigMap\nkind: ResourceList\napiVersion: config.kubernetes.io/v1\n", true},
		{"Helm stream", "---\n# Source: app/templates/pvc.yaml\napiVersion: v1\nkind: PersistentVolumeClaim\n", false},
		{"old apiVersion", "apiVersion: config.kubernetes.io/v1alpha1\nkind: ResourceList\n", false},
		{"a List", "apiVersion: v1\nkind: List\nitems: []\n", false},
		{"ResourceList in a later document", "apiVersion: v1\nkind: ConfigMap\n---\napiVersion: config.kubernetes.io/v1\nkind: ResourceList\n", false},
		{"first document lacks kind", "apiVersion: config.kubernetes.io/v1\n---\nkind: ResourceList\n", false},
		{"nested keys only", "spec:\n  apiVersion: config.kubernetes.io/v1\n  kind: ResourceList\n", false},
		{"empty", "", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := krm.IsResourceList([]byte(tc.in)); got != tc.want {
				t.Errorf("IsResourceList = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestLiveStateErrorIsAResult: a cluster that cannot be read fails the
// function with an error result, and the items come back unchanged.
func TestLiveStateErrorIsAResult(t *testing.T) {
	fn := &krm.Function{Namespace: "apps", Live: failingState{}}
	in := "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n- {apiVersion: v1, kind: PersistentVolumeClaim, metadata: {name: data}}\n"
	var out bytes.Buffer
	_, err := fn.Run(context.Background(), []byte(in), &out)
	if err == nil || !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("error = %v, want the live state's", err)
	}
	for _, want := range []string{"severity: error", "connection refused", "name: data"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

type failingState struct{ renderer.LiveState }

func (failingState) Objects(context.Context, renderer.GroupKind, []renderer.ObjectKey) (map[renderer.ObjectKey]*unstructured.Unstructured, error) {
	return nil, errors.New("dial tcp 127.0.0.1:1: connect: connection refused")
}

// parseStream reads a manifest stream into items, as an orchestrator would.
func parseStream(data []byte) ([]*yaml.RNode, error) {
	return (&kio.ByteReader{Reader: bytes.NewReader(data), OmitReaderAnnotations: true, DisableUnwrapping: true}).Read()
}

func resourceList(t *testing.T, items []*yaml.RNode) []byte {
	t.Helper()
	var b bytes.Buffer
	w := kio.ByteWriter{Writer: &b, WrappingAPIVersion: kio.ResourceListAPIVersion, WrappingKind: kio.ResourceListKind}
	if err := w.Write(items); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func itemsOf(t *testing.T, resourceList []byte) []*yaml.RNode {
	t.Helper()
	rw := &kio.ByteReadWriter{Reader: bytes.NewReader(resourceList), OmitReaderAnnotations: true}
	items, err := rw.Read()
	if err != nil {
		t.Fatalf("reading the output: %v", err)
	}
	return items
}

// values decodes items to plain Go values: what they mean, not how they
// are written.
func values(t *testing.T, items []*yaml.RNode) []any {
	t.Helper()
	var out []any
	for _, item := range items {
		var v any
		if err := item.YNode().Decode(&v); err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	return out
}
