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
	// kubectl get pvc,sts,pv,storageclass -A -o yaml, shortened.
	kubectlList := `apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: PersistentVolumeClaim, metadata: {name: data, namespace: a}}
- {apiVersion: apps/v1, kind: StatefulSet, metadata: {name: db, namespace: a}}
- {apiVersion: v1, kind: PersistentVolume, metadata: {name: pv-1}}
- {apiVersion: storage.k8s.io/v1, kind: StorageClass, metadata: {name: fast}, provisioner: x}
- {apiVersion: example.com/v1beta1, kind: Widget, metadata: {name: w, namespace: a}}
`
	widgetKind := renderer.GroupKind{Group: "example.com", Kind: "Widget"}
	tests := []struct {
		name string
		data string
		want map[renderer.GroupKind][]renderer.ObjectKey
	}{
		{
			name: "kubectl get -o yaml List of several kinds",
			data: kubectlList,
			want: map[renderer.GroupKind][]renderer.ObjectKey{
				claimKind:  {key("a", "data")},
				stsKind:    {key("a", "db")},
				pvKind:     {key("", "pv-1")},
				classKind:  {key("", "fast")},
				widgetKind: {key("a", "w")},
			},
		},
		{
			name: "multi-document stream",
			data: "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: data, namespace: a}\n---\n---\napiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: logs, namespace: b}\n---\napiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: db, namespace: b}\n",
			want: map[renderer.GroupKind][]renderer.ObjectKey{claimKind: {key("a", "data"), key("b", "logs")}, stsKind: {key("b", "db")}},
		},
		{
			name: "JSON",
			data: `{"apiVersion":"v1","kind":"PersistentVolumeClaimList","items":[{"apiVersion":"v1","kind":"PersistentVolumeClaim","metadata":{"name":"data","namespace":"a"}}]}`,
			want: map[renderer.GroupKind][]renderer.ObjectKey{claimKind: {key("a", "data")}},
		},
		{
			name: "a cluster-scoped object stored with a namespace is found without one",
			data: "apiVersion: v1\nkind: PersistentVolume\nmetadata: {name: pv-1, namespace: a}\n",
			want: map[renderer.GroupKind][]renderer.ObjectKey{pvKind: {key("", "pv-1")}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewSnapshot()
			if err := s.Add([]byte(tt.data)); err != nil {
				t.Fatal(err)
			}
			for _, kind := range []renderer.GroupKind{claimKind, stsKind, pvKind, classKind, widgetKind} {
				// The same name in another kind, namespace or group is absent.
				asked := append(tt.want[kind], key("a", "absent"), key("b", "data"), key("", "absent"))
				found, err := s.Objects(context.Background(), kind, asked)
				if err != nil {
					t.Fatal(err)
				}
				if len(found) != len(tt.want[kind]) {
					t.Errorf("%s: found %d objects, want %d", kind, len(found), len(tt.want[kind]))
				}
				for _, k := range tt.want[kind] {
					if found[k] == nil || found[k].GetName() != k.Name || found[k].GetKind() != kind.Kind {
						t.Errorf("%s %s not found", kind, k)
					}
				}
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
		{"claim without namespace", write("nons.yaml", "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: data}\n"), "PersistentVolumeClaim data has no metadata.namespace"},
		{"StatefulSet without namespace", write("sts.yaml", "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: db}\n"), "StatefulSet db has no metadata.namespace"},
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
