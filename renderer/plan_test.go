package renderer

import (
	"strings"
	"testing"
)

// indexOf builds a rule index over one rule per kind.
func indexOf(t *testing.T, kinds ...GroupKind) *ruleIndex {
	t.Helper()
	set := &RuleSet{Name: "test"}
	for _, kind := range kinds {
		set.Rules = append(set.Rules, Rule{Name: kind.Kind, Resource: kind, Path: Path{{Key: "spec"}}, Policy: Immutable, Reason: "test"})
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
