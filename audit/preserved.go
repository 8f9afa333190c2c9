package audit

import (
	"fmt"
	"strings"

	"sigs.k8s.io/yaml"
)

// notePrefix starts the comment line the renderer writes into a document
// for each field it preserved.
const notePrefix = "# pvc-guard: "

// preserved lists the fields pvc-guard wrote into rec's manifest, read from
// its comments: the manifest is what Helm stored, post-rendered.
func preserved(rec Record) ([]Preserved, error) {
	found := []Preserved{}
	for doc := range strings.SplitSeq(rec.Manifest, "\n---") {
		var notes []string
		for line := range strings.SplitSeq(doc, "\n") {
			if note, ok := strings.CutPrefix(strings.TrimSpace(line), notePrefix); ok {
				notes = append(notes, note)
			}
		}
		if len(notes) == 0 {
			continue
		}
		var meta struct {
			Kind     string `json:"kind"`
			Metadata struct {
				Name      string `json:"name"`
				Namespace string `json:"namespace"`
			} `json:"metadata"`
		}
		if err := yaml.Unmarshal([]byte(doc), &meta); err != nil {
			return nil, fmt.Errorf("reading the manifest of revision %d: %w", rec.Version, err)
		}
		namespace := meta.Metadata.Namespace
		if namespace == "" {
			namespace = rec.Namespace
		}
		for _, note := range notes {
			field, _, _ := strings.Cut(note, " ")
			found = append(found, Preserved{Kind: meta.Kind, Namespace: namespace, Name: meta.Metadata.Name, Field: field, Comment: note})
		}
	}
	return found, nil
}
