package audit

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/yaml"
)

func parse(t *testing.T, doc string) *unstructured.Unstructured {
	t.Helper()
	obj := &unstructured.Unstructured{}
	if err := yaml.Unmarshal([]byte(doc), &obj.Object); err != nil {
		t.Fatal(err)
	}
	return obj
}

const (
	claimWithVolume = `{apiVersion: v1, kind: PersistentVolumeClaim, metadata: {name: data, namespace: apps, resourceVersion: "7"},
  spec: {accessModes: [ReadWriteOnce], volumeName: pv-1, resources: {requests: {storage: 1Gi}}}}`
	claimWithoutVolume = `{apiVersion: v1, kind: PersistentVolumeClaim, metadata: {name: data, namespace: apps},
  spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}}`
	widget    = `{apiVersion: example.com/v1, kind: Widget, metadata: {name: w, namespace: apps, resourceVersion: "3"}, spec: {size: 1}}`
	widgetBig = `{apiVersion: example.com/v1, kind: Widget, metadata: {name: w, namespace: apps}, spec: {size: 2}}`
)

func TestNewRequest(t *testing.T) {
	mapping := &meta.RESTMapping{Resource: schema.GroupVersionResource{Version: "v1", Resource: "persistentvolumeclaims"}, Scope: meta.RESTScopeNamespace}
	tests := []struct {
		name                   string
		method                 Method
		original, target, live string
		wantNil                bool
		wantPatchType          types.PatchType
		wantBody               string // a substring
		wantFields             []string
	}{
		{name: "dropping a volumeName the current release applied clears it",
			method: ClientSide, original: claimWithVolume, target: claimWithoutVolume, live: claimWithVolume,
			wantPatchType: types.StrategicMergePatchType, wantBody: `"volumeName":null`, wantFields: []string{"spec.volumeName"}},
		{name: "a volumeName the binder set and no release applied stays",
			method: ClientSide, original: claimWithoutVolume, target: claimWithoutVolume, live: claimWithVolume, wantNil: true},
		{name: "no original: the live object is the baseline",
			method: ClientSide, target: claimWithVolume, live: claimWithVolume, wantNil: true},
		{name: "server-side apply sends the whole target",
			method: ServerSide, original: claimWithVolume, target: claimWithoutVolume, live: claimWithVolume,
			wantBody: `"kind":"PersistentVolumeClaim"`, wantFields: []string{"spec.volumeName"}},
		{name: "replace clears what the target lacks even when a patch would not",
			method: Replace, original: claimWithoutVolume, target: claimWithoutVolume, live: claimWithVolume,
			wantFields: []string{"spec.volumeName"}},
		{name: "kinds outside client-go's scheme get a JSON merge patch",
			method: ClientSide, original: widget, target: widgetBig, live: widget,
			wantPatchType: types.MergePatchType, wantBody: `"spec":{"size":2}`, wantFields: []string{"spec.size"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var original *unstructured.Unstructured
			if tt.original != "" {
				original = parse(t, tt.original)
			}
			live := parse(t, tt.live)
			r, err := newRequest(tt.method, mapping, original, parse(t, tt.target), live)
			if err != nil {
				t.Fatal(err)
			}
			if tt.wantNil {
				if r != nil {
					t.Fatalf("request = %s %s, want none", r.patchType, r.body)
				}
				return
			}
			if r == nil {
				t.Fatal("no request, want one")
			}
			if r.patchType != tt.wantPatchType || !strings.Contains(string(r.body), tt.wantBody) {
				t.Errorf("request = %q %s, want %q containing %s", r.patchType, r.body, tt.wantPatchType, tt.wantBody)
			}
			if tt.method == Replace && r.replacement.GetResourceVersion() != live.GetResourceVersion() {
				t.Errorf("replacement resourceVersion = %q, want the live %q", r.replacement.GetResourceVersion(), live.GetResourceVersion())
			}
			if got := specDiff(r.result, r.live); strings.Join(got, ",") != strings.Join(tt.wantFields, ",") {
				t.Errorf("changed fields = %v, want %v", got, tt.wantFields)
			}
		})
	}
}
