package renderer

// SplitForTest exposes the stream splitter to the external test package.
func SplitForTest(in []byte) [][]byte {
	var docs [][]byte
	for d := range eachDocument(in) {
		docs = append(docs, d.raw)
	}
	return docs
}
