package krm

import (
	"bytes"

	"sigs.k8s.io/kustomize/kyaml/kio"
)

// IsResourceList reports whether in is a KRM function's input: a YAML
// document whose top-level apiVersion is config.kubernetes.io/v1 and whose
// kind is ResourceList, in the block style kustomize and kpt write. It reads
// the first document's top-level keys only and stops as soon as it has both,
// so telling a Helm stream of any size apart costs a few lines.
func IsResourceList(in []byte) bool {
	var apiVersion, kind string
	started := false
	for len(in) > 0 && (apiVersion == "" || kind == "") {
		var line []byte
		line, in, _ = bytes.Cut(in, []byte("\n"))
		line = bytes.TrimRight(line, "\r")
		switch {
		case isSeparator(line):
			if started {
				return false // the first document ended without both keys
			}
			continue
		case len(line) == 0 || line[0] == '#':
			continue
		}
		started = true
		key, value, ok := topLevelEntry(line)
		switch {
		case !ok:
		case key == "apiVersion":
			apiVersion = value
		case key == "kind":
			kind = value
		}
	}
	return apiVersion == kio.ResourceListAPIVersion && kind == kio.ResourceListKind
}

// isSeparator matches a document separator line: "---" alone or followed by
// a blank (and usually a comment).
func isSeparator(line []byte) bool {
	return bytes.HasPrefix(line, []byte("---")) && (len(line) == 3 || line[3] == ' ' || line[3] == '\t')
}

// topLevelEntry splits an unindented "key: value" line, dropping quotes
// around the key and the value and a trailing comment.
func topLevelEntry(line []byte) (key, value string, ok bool) {
	if line[0] == ' ' || line[0] == '\t' || line[0] == '-' {
		return "", "", false // nested content, a sequence entry or a block scalar's text
	}
	k, v, ok := bytes.Cut(line, []byte(":"))
	if !ok {
		return "", "", false
	}
	if i := bytes.Index(v, []byte(" #")); i >= 0 {
		v = v[:i]
	}
	return string(unquote(bytes.TrimSpace(k))), string(unquote(bytes.TrimSpace(v))), true
}

func unquote(s []byte) []byte {
	if len(s) >= 2 && (s[0] == '"' || s[0] == '\'') && s[len(s)-1] == s[0] {
		return s[1 : len(s)-1]
	}
	return s
}
