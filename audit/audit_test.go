package audit

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic/fake"
	clienttesting "k8s.io/client-go/testing"

	"github.com/pvc-guard/pvc-guard/renderer"
)

// manifest is a release revision: a ConfigMap and a claim.
func manifest(release, message, volumeName string) string {
	m := fmt.Sprintf(`---
apiVersion: v1
kind: ConfigMap
metadata:
  name: %s-settings
data:
  message: %s
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: %s-data
spec:
  accessModes: [ReadWriteOnce]
  resources:
    requests:
      storage: 1Gi
`, release, message, release)
	if volumeName != "" {
		m += "  volumeName: " + volumeName + "\n"
	}
	return m
}

func fakeCluster(t *testing.T, objects ...runtime.Object) (*Cluster, *fake.FakeDynamicClient) {
	t.Helper()
	// Default versions: the renderer maps kinds without one, as a
	// discovery-backed mapper does.
	mapper := meta.NewDefaultRESTMapper([]schema.GroupVersion{{Version: "v1"}, {Group: "storage.k8s.io", Version: "v1"}})
	mapper.Add(schema.GroupVersionKind{Version: "v1", Kind: "ConfigMap"}, meta.RESTScopeNamespace)
	mapper.Add(schema.GroupVersionKind{Version: "v1", Kind: "PersistentVolumeClaim"}, meta.RESTScopeNamespace)
	mapper.Add(schema.GroupVersionKind{Group: "storage.k8s.io", Version: "v1", Kind: "StorageClass"}, meta.RESTScopeRoot)
	client := fake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), map[schema.GroupVersionResource]string{
		{Version: "v1", Resource: "configmaps"}:                              "ConfigMapList",
		{Version: "v1", Resource: "persistentvolumeclaims"}:                  "PersistentVolumeClaimList",
		{Group: "storage.k8s.io", Version: "v1", Resource: "storageclasses"}: "StorageClassList",
	}, objects...)
	return &Cluster{Client: client, Mapper: mapper}, client
}

func liveObject(kind, name string, fields map[string]any) *unstructured.Unstructured {
	obj := map[string]any{"apiVersion": "v1", "kind": kind, "metadata": map[string]any{"name": name, "namespace": "apps", "resourceVersion": "1"}}
	for k, v := range fields {
		obj[k] = v
	}
	return &unstructured.Unstructured{Object: obj}
}

// TestLiveStateIsListedOncePerNamespaceAndKind: however many releases and
// revisions, the audit LISTs each kind once per namespace, and reads
// nothing else.
func TestLiveStateIsListedOncePerNamespaceAndKind(t *testing.T) {
	var objects []runtime.Object
	var records []Record
	for _, release := range []string{"a", "b", "c"} {
		objects = append(objects,
			liveObject("ConfigMap", release+"-settings", map[string]any{"data": map[string]any{"message": "two"}}),
			liveObject("PersistentVolumeClaim", release+"-data", map[string]any{"spec": map[string]any{
				"accessModes": []any{"ReadWriteOnce"}, "volumeName": "pv-" + release,
				"resources": map[string]any{"requests": map[string]any{"storage": "1Gi"}}}}))
		records = append(records,
			Record{Name: release, Namespace: "apps", Version: 1, Manifest: manifest(release, "one", "")},
			Record{Name: release, Namespace: "apps", Version: 2, Manifest: manifest(release, "two", "pv-"+release)},
			Record{Name: release, Namespace: "apps", Version: 3, Manifest: manifest(release, "two", "pv-"+release)})
	}
	cluster, client := fakeCluster(t, objects...)
	result, err := (&Auditor{Cluster: cluster, Options: DefaultOptions()}).Run(t.Context(), records)
	if err != nil {
		t.Fatal(err)
	}
	if len(result.Releases) != 3 || len(result.Releases[0].Revisions) != 2 {
		t.Fatalf("result = %+v, want 3 releases with 2 rollbacks each", result)
	}
	lists := map[string]int{}
	for _, action := range client.Actions() {
		switch action.(type) {
		case clienttesting.ListAction:
			lists[action.GetResource().Resource+" in "+action.GetNamespace()]++
		case clienttesting.PatchAction, clienttesting.UpdateAction:
		default:
			t.Errorf("unexpected request %s %s", action.GetVerb(), action.GetResource().Resource)
		}
	}
	want := map[string]int{"configmaps in apps": 1, "persistentvolumeclaims in apps": 1}
	if fmt.Sprint(lists) != fmt.Sprint(want) {
		t.Errorf("LIST requests = %v, want %v", lists, want)
	}
	if cluster.Lists != 2 {
		t.Errorf("Cluster.Lists = %d, want 2", cluster.Lists)
	}
}

// TestMaxRevisions: only the newest revisions before the current one are
// checked, newest first.
func TestMaxRevisions(t *testing.T) {
	cluster, _ := fakeCluster(t)
	var records []Record
	for v := 1; v <= 5; v++ {
		records = append(records, Record{Name: "a", Namespace: "apps", Version: v})
	}
	result, err := (&Auditor{Cluster: cluster, Options: Options{MaxRevisions: 2, ServerSide: "auto"}}).Run(t.Context(), records)
	if err != nil {
		t.Fatal(err)
	}
	var got []int
	for _, rev := range result.Releases[0].Revisions {
		got = append(got, rev.Revision)
	}
	if fmt.Sprint(got) != "[4 3]" || result.Releases[0].Revision != 5 {
		t.Errorf("checked revisions %v of current %d, want [4 3] of 5", got, result.Releases[0].Revision)
	}
}

// TestProgress: past progressAfter, each release gets a line on the
// progress writer, with the requests so far.
func TestProgress(t *testing.T) {
	defer func(saved time.Duration) { progressAfter = saved }(progressAfter)
	progressAfter = 0
	cluster, _ := fakeCluster(t)
	var progress bytes.Buffer
	records := []Record{{Name: "a", Namespace: "apps", Version: 1}, {Name: "b", Namespace: "apps", Version: 1}}
	auditor := &Auditor{Cluster: cluster, Options: Options{ServerSide: "auto", Progress: &progress}}
	if _, err := auditor.Run(t.Context(), records); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(progress.String()), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[1], "pvc-guard audit: 2/2 releases, 0 LIST and 0 dry-run requests") {
		t.Errorf("progress = %q", progress.String())
	}
}

// TestRulesJudgePvcGuardsSide: the audit's rule sets are the ones
// pvc-guard's renderer applies, as `pvc-guard rollback --rules` would: a
// rule of one's own that makes the ConfigMap's message immutable makes
// pvc-guard refuse the rollback that changes it; with the default rules the
// change goes to the API server (here a fake one, which cannot apply
// strategic merge patches: only the basis and the fields tell).
func TestRulesJudgePvcGuardsSide(t *testing.T) {
	file := filepath.Join(t.TempDir(), "settings.yaml")
	if err := os.WriteFile(file, []byte(`apiVersion: pvc-guard.io/v1alpha1
kind: RuleSet
name: settings
rules:
- name: settings-message
  resource: {kind: ConfigMap}
  scope: Namespaced
  path: data.message
  policy: immutable
  reason: the application reads its message once
`), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		refs      []string // --rules
		wantOK    bool     // the fake API server answers no patch
		wantBasis string
		wantField []string
	}{
		{"default rules", nil, false, DryRun, nil},
		{"a rule set file", []string{file}, false, Rules, []string{"data.message"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rules, err := renderer.LoadRuleSets(tt.refs)
			if err != nil {
				t.Fatal(err)
			}
			cluster, _ := fakeCluster(t, liveObject("ConfigMap", "a-settings", map[string]any{"data": map[string]any{"message": "two"}}))
			records := []Record{
				{Name: "a", Namespace: "apps", Version: 1, Manifest: manifest("a", "one", "")},
				{Name: "a", Namespace: "apps", Version: 2, Manifest: manifest("a", "two", "")},
			}
			options := DefaultOptions()
			options.Rules = rules
			result, err := (&Auditor{Cluster: cluster, Options: options}).Run(t.Context(), records)
			if err != nil {
				t.Fatal(err)
			}
			got := result.Releases[0].Revisions[0]
			if got.PvcGuard.OK != tt.wantOK || got.PvcGuard.Basis != tt.wantBasis || fmt.Sprint(got.PvcGuard.Fields) != fmt.Sprint(tt.wantField) {
				t.Errorf("pvc-guard = %+v, want ok=%v basis %s fields %v", got.PvcGuard, tt.wantOK, tt.wantBasis, tt.wantField)
			}
		})
	}
}
