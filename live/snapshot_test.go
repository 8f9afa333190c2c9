package live

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pvc-guard/pvc-guard/renderer"
)

func TestSnapshotReadsListsAndStreams(t *testing.T) {
	tests := []struct {
		name    string
		data    string
		claims  []renderer.ObjectKey
		classes []string
	}{
		{
			name: "kubectl get -o yaml List",
			data: `apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: PersistentVolumeClaim, metadata: {name: data, namespace: a}}
- {apiVersion: storage.k8s.io/v1, kind: StorageClass, metadata: {name: fast}, provisioner: x}
- {apiVersion: v1, kind: ConfigMap, metadata: {name: ignored, namespace: a}}
`,
			claims:  []renderer.ObjectKey{key("a", "data")},
			classes: []string{"fast"},
		},
		{
			name:   "multi-document stream",
			data:   "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: data, namespace: a}\n---\n---\napiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: logs, namespace: b}\n",
			claims: []renderer.ObjectKey{key("a", "data"), key("b", "logs")},
		},
		{
			name:   "JSON",
			data:   `{"apiVersion":"v1","kind":"PersistentVolumeClaimList","items":[{"apiVersion":"v1","kind":"PersistentVolumeClaim","metadata":{"name":"data","namespace":"a"}}]}`,
			claims: []renderer.ObjectKey{key("a", "data")},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewSnapshot()
			if err := s.Add([]byte(tt.data)); err != nil {
				t.Fatal(err)
			}
			found, _ := s.Claims(context.Background(), append(tt.claims, key("a", "absent")))
			if len(found) != len(tt.claims) {
				t.Errorf("found %d claims, want %d", len(found), len(tt.claims))
			}
			classes, _ := s.StorageClasses(context.Background(), append(tt.classes, "absent"))
			if len(classes) != len(tt.classes) {
				t.Errorf("found %d classes, want %d", len(classes), len(tt.classes))
			}
		})
	}
}

func TestSnapshotErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	tests := []struct {
		name string
		path string
		want string
	}{
		{"missing file", filepath.Join(dir, "nope.yaml"), "no such file"},
		{"invalid YAML", write("bad.yaml", "a: [\n"), "bad.yaml"},
		{"claim without namespace", write("nons.yaml", "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: data}\n"), "has no metadata.namespace"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadSnapshotFiles([]string{tt.path})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one mentioning %q", err, tt.want)
			}
		})
	}
}
