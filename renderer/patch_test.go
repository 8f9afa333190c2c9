package renderer

import (
	"testing"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

func TestIsPlainWord(t *testing.T) {
	tests := []struct {
		text string
		want bool
	}{
		{"pv-data", true},
		{"pvc-6f1c2a44-0000-4000-8000-000000000001", true},
		{"2Gi", true},
		{"Filesystem", true},
		{"kubernetes.io/aws-ebs", true},
		{"", false},
		{"yes", false},
		{"On", false},
		{"null", false},
		{"1024", false},
		{"1e3", false},
		{"1_000", false},
		{"0x1F", false},
		{".inf", false},
		{"-x", false},
		{"a b", false},
		{"a:b", false},
		{"a#b", false},
	}
	for _, tt := range tests {
		if got := isPlainWord(tt.text); got != tt.want {
			t.Errorf("isPlainWord(%q) = %v, want %v", tt.text, got, tt.want)
		}
	}
}

// spliceProbe edits every field the default rules touch, in their order.
var spliceProbe = []fieldEdit{
	{item: -1, path: keyPath([]string{"spec", "volumeName"}), value: "pv-probe"},
	{item: -1, path: keyPath([]string{"spec", "storageClassName"}), value: "fast"},
	{item: -1, path: keyPath([]string{"metadata", "annotations", "volume.beta.kubernetes.io/storage-class"}), value: "fast"},
	{item: -1, path: keyPath([]string{"spec", "accessModes"}), value: []any{"ReadWriteOnce"}},
	{item: -1, path: keyPath([]string{"spec", "selector"}), remove: true},
	{item: -1, path: keyPath([]string{"spec", "dataSource"}), value: map[string]any{"kind": "PersistentVolumeClaim", "name": "source"}},
	{item: -1, path: keyPath([]string{"spec", "resources", "requests", "storage"}), value: "2Gi"},
}

// FuzzSplicePlainDocuments: a text splice of a document the fast parser
// took always means what the edits say, which is why applyEdits does not
// read such documents back.
func FuzzSplicePlainDocuments(f *testing.F) {
	addGoldenDocuments(f)
	f.Fuzz(func(t *testing.T, raw []byte) {
		doc, plain := parseBlockYAML(raw)
		if !plain || doc.Content[0].Kind != yaml.MappingNode {
			return
		}
		if object, err := decodeNode(doc.Content[0]); err != nil || requireStringKeys("probe", object, nil) != nil {
			return // the renderer refuses such claims before any edit
		}
		text, err := spliceEdits(raw, doc, spliceProbe)
		if err != nil {
			return // refused: applyEdits re-encodes
		}
		if !meansEdited(text, doc, spliceProbe) {
			t.Fatalf("the splice of\n%s\nmeans something else:\n%s", raw, text)
		}
	})
}
