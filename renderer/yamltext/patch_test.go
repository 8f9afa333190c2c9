package yamltext

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
		{"nan", false},
		{"Infinity", false},
		{"1e3Gi", true},
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

func TestPlainEntryIsTheEncoders(t *testing.T) {
	tests := []struct {
		value any
		plain bool // the fast path writes it
	}{
		{"pv-data", true},
		{map[string]any{"app.kubernetes.io/name": "db", "helm.sh/chart": "app-1.2.2"}, true},
		{map[string]any{"a": map[string]any{"b": "c", "d": map[string]any{"e": "f"}}, "g": "h"}, true},
		{map[string]any{"a": "yes"}, false},
		{map[string]any{"a": "x y"}, false},
		{map[string]any{"a": map[string]any{}}, false},
		{map[string]any{"a": []any{"b"}}, false},
		{map[string]any{}, false},
		{map[string]any{"a": 1}, false},
	}
	for _, tt := range tests {
		node, err := valueNode("labels", tt.value)
		if err != nil {
			t.Fatal(err)
		}
		entry := &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{{Kind: yaml.ScalarNode, Value: "labels"}, node}}
		want, err := yaml.MarshalWithOptions(entry, &yaml.EncoderOptions{SeqIndent: yaml.CompactSequenceStyle})
		if err != nil {
			t.Fatal(err)
		}
		got, ok := plainEntry("labels", node)
		if ok != tt.plain {
			t.Errorf("%v: fast path %v, want %v", tt.value, ok, tt.plain)
		}
		if ok && string(got) != string(want) {
			t.Errorf("%v: fast path writes\n%s\nthe encoder\n%s", tt.value, got, want)
		}
	}
}

// spliceProbe edits every field the default rules touch, in their order.
var spliceProbe = []Edit{
	{Item: -1, Path: keyPath([]string{"spec", "volumeName"}), Value: "pv-probe"},
	{Item: -1, Path: keyPath([]string{"spec", "storageClassName"}), Value: "fast"},
	{Item: -1, Path: keyPath([]string{"metadata", "annotations", "volume.beta.kubernetes.io/storage-class"}), Value: "fast"},
	{Item: -1, Path: keyPath([]string{"spec", "accessModes"}), Value: []any{"ReadWriteOnce"}},
	{Item: -1, Path: keyPath([]string{"spec", "selector"}), Remove: true},
	{Item: -1, Path: keyPath([]string{"spec", "dataSource"}), Value: map[string]any{"kind": "PersistentVolumeClaim", "name": "source"}},
	{Item: -1, Path: keyPath([]string{"spec", "resources", "requests", "storage"}), Value: "2Gi"},
}

// FuzzSplicePlainDocuments: a text splice of a document the fast parser
// took always means what the edits say, which is why Apply does not
// read such documents back.
func FuzzSplicePlainDocuments(f *testing.F) {
	addGoldenDocuments(f)
	f.Fuzz(func(t *testing.T, raw []byte) {
		doc, plain := parseBlockYAML(raw, nil)
		if !plain || doc.Content[0].Kind != yaml.MappingNode {
			return
		}
		if object, err := Decode(doc.Content[0]); err != nil || !onlyStringKeys(object) {
			return // the renderer refuses such claims before any edit
		}
		text, err := spliceEdits(raw, doc, spliceProbe)
		if err != nil {
			return // refused: Apply re-encodes
		}
		if !meansEdited(text, doc, spliceProbe) {
			t.Fatalf("the splice of\n%s\nmeans something else:\n%s", raw, text)
		}
	})
}

// onlyStringKeys reports whether every mapping in v has string keys, as the
// objects the renderer edits have.
func onlyStringKeys(v any) bool {
	switch t := v.(type) {
	case map[string]any:
		for _, child := range t {
			if !onlyStringKeys(child) {
				return false
			}
		}
	case []any:
		for _, child := range t {
			if !onlyStringKeys(child) {
				return false
			}
		}
	case map[any]any:
		return false
	}
	return true
}
