package renderer

import "github.com/pvc-guard/pvc-guard/renderer/yamltext"

// SplitForTest exposes the stream splitter to the external test package.
func SplitForTest(in []byte) [][]byte {
	var docs [][]byte
	for d := range yamltext.Documents(in) {
		docs = append(docs, d.Raw)
	}
	return docs
}
