package renderer

import (
	"fmt"
	"maps"
	"strings"
	"testing"

	"github.com/pvc-guard/pvc-guard/internal/testutil/benchdata"
	"github.com/pvc-guard/pvc-guard/renderer/yamltext"
)

// indexOf builds a rule index over one rule per kind.
func indexOf(t *testing.T, kinds ...GroupKind) *ruleIndex {
	t.Helper()
	set := &RuleSet{Name: "test"}
	for _, kind := range kinds {
		set.Rules = append(set.Rules, Rule{Name: kind.Kind, Resource: kind, Path: yamltext.Path{{Key: "spec"}}, Policy: Immutable, Reason: "test"})
	}
	return newRuleIndex([]*RuleSet{set}, nil)
}

var (
	claimKind       = GroupKind{Kind: "PersistentVolumeClaim"}
	volumeKind      = GroupKind{Kind: "PersistentVolume"}
	statefulSetKind = GroupKind{Group: "apps", Kind: "StatefulSet"}
)

func TestMayHold(t *testing.T) {
	claims, storage := indexOf(t, claimKind), indexOf(t, claimKind, volumeKind, statefulSetKind)
	tests := []struct {
		name           string
		doc            string
		claims, others bool
	}{
		{"plain kind", "kind: PersistentVolumeClaim\n", true, true},
		{"quoted kind", "kind: 'PersistentVolumeClaim'\n", true, true},
		{"JSON", `{"kind":"PersistentVolumeClaim"}`, true, true},
		{"flow style", "{kind: PersistentVolumeClaim}", true, true},
		{"List item", "kind: List\nitems:\n- kind: PersistentVolumeClaim\n", true, true},
		{"escape sequence may hide the kind", `kind: "\x50ersistentVolumeClaim"`, true, true},
		{"JSON unicode escape may hide the kind", `{"kind":"\u0050ersistentVolumeClaim"}`, true, true},
		{"other kind", "kind: ConfigMap\ndata: {a: b}\n", false, false},
		{"volume, not claim", "kind: PersistentVolume\n", false, true},
		{"StatefulSet in JSON", `{"apiVersion":"apps/v1","kind":"StatefulSet"}`, false, true},
		{"StatefulSet in a List", "kind: List\nitems: [{kind: \"StatefulSet\"}]\n", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := claims.mayHold([]byte(tt.doc)); got != tt.claims {
				t.Errorf("with claim rules: mayHold(%q) = %v, want %v", tt.doc, got, tt.claims)
			}
			if got := storage.mayHold([]byte(tt.doc)); got != tt.others {
				t.Errorf("with claim, volume and StatefulSet rules: mayHold(%q) = %v, want %v", tt.doc, got, tt.others)
			}
		})
	}
	var needles []string
	for _, n := range storage.needles {
		needles = append(needles, string(n))
	}
	if got := strings.Join(needles, ","); got != "PersistentVolume,StatefulSet" {
		t.Errorf("the scan looks for %s; PersistentVolume finds its claims too", got)
	}
}

// TestPreScanParsesOnlyRuledDocuments: on a Helm-like stream, every
// document the pre-scan lets through holds an object of a ruled kind, and
// every such document is let through; the counts by kind say the stream
// holds what the README's performance numbers claim it does.
func TestPreScanParsesOnlyRuledDocuments(t *testing.T) {
	const docs = 10_000
	stream, _ := benchdata.Stream(docs)
	storage := map[string]int{"PersistentVolumeClaim": docs / benchdata.ClaimEvery, "StatefulSet": docs / benchdata.ClaimEvery}
	for _, tt := range []struct {
		refs []string
		want map[string]int // documents parsed, by the kind they hold
	}{
		{refs: nil, want: storage},
		{refs: []string{BuiltinPrefix + "workloads"}, want: withKinds(storage, map[string]int{"Deployment": 3267})},
	} {
		sets, err := LoadRuleSets(tt.refs)
		if err != nil {
			t.Fatal(err)
		}
		ix := newRuleIndex(sets, nil)
		got := map[string]int{}
		for doc := range yamltext.Documents(stream) {
			objects, err := ix.objectsIn(doc, "default")
			if err != nil {
				t.Fatal(err)
			}
			may := ix.mayHold(doc.Raw)
			if may != (len(objects) > 0) {
				t.Fatalf("rules %v: the pre-scan says %v for a document with %d ruled objects:\n%s", tt.refs, may, len(objects), doc.Raw)
			}
			if may {
				got[objects[0].kind.Kind]++
			}
		}
		if !maps.Equal(got, tt.want) {
			t.Errorf("rules %v: of %d documents the pre-scan let through %v, want %v", tt.refs, docs, got, tt.want)
		}
	}
}

func TestCandidatesAreTheScanOfTheWholeStream(t *testing.T) {
	stream, _ := benchdata.Stream(1_000)
	ix := newRuleIndex(DefaultRuleSets(), nil)
	var want []yamltext.Document
	for doc := range yamltext.Documents(stream) {
		if ix.mayHold(doc.Raw) {
			want = append(want, doc)
		}
	}
	got := ix.candidates(stream)
	if len(got) != len(want) || len(want) != 20 {
		t.Fatalf("%d candidates, the whole stream's scan %d (want 20)", len(got), len(want))
	}
	for i := range got {
		if got[i].Index != want[i].Index || got[i].Offset != want[i].Offset || string(got[i].Raw) != string(want[i].Raw) {
			t.Errorf("candidate %d is document %d at %d, want document %d at %d", i, got[i].Index, got[i].Offset, want[i].Index, want[i].Offset)
		}
	}
}

func withKinds(a, b map[string]int) map[string]int {
	merged := maps.Clone(a)
	maps.Copy(merged, b)
	return merged
}

func TestObjectsWithKeysThatAreNotStringsAreRefused(t *testing.T) {
	tests := []struct {
		doc  string
		want string // "" for no error
	}{
		{"kind: PersistentVolumeClaim\nmetadata:\n  name: a\nspec:\n  resources:\n    requests:\n      1: x\n", "PersistentVolumeClaim field spec.resources.requests has a key that is not a string"},
		{"kind: PersistentVolumeClaim\nmetadata:\n  name: a\nspec:\n  accessModes:\n  - {1: x}\n", "PersistentVolumeClaim field spec.accessModes has a key that is not a string"},
		{"kind: PersistentVolumeClaim\nmetadata:\n  name: a\nspec:\n  volumeName: pv\n", ""},
	}
	ix := newRuleIndex(DefaultRuleSets(), nil)
	for _, tt := range tests {
		_, err := ix.objectsIn(yamltext.Document{Raw: []byte(tt.doc)}, "ns")
		if got := fmt.Sprint(err); (tt.want == "" && err != nil) || !strings.Contains(got, tt.want) {
			t.Errorf("%q: got %v, want %q", tt.doc, err, tt.want)
		}
	}
}
