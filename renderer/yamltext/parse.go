package yamltext

import (
	"bytes"
	"fmt"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// Parsed is a document's node tree, and whether the fast parser
// read it (plain block YAML, whose text a splice edits exactly) or its
// aliases and merge keys were resolved (and then its text cannot be edited
// in place: the tree no longer follows it).
type Parsed struct {
	Node     *yaml.Node
	Plain    bool
	Resolved bool
}

// Parse parses one chunk of the stream; the chunk must hold exactly
// one YAML Document. Plain block YAML, what charts render, takes the fast
// parser; everything else the YAML library, and a document with aliases or
// merge keys is resolved as Helm reads it (resolveAliases).
func Parse(raw []byte) (Parsed, error) { return ParseReach(raw, nil) }

// ParseReach is Parse for a reader of only part of the document: when the
// fast parser reads it, the tree holds the reach alone, and Decode returns
// only that; what the YAML library reads comes whole.
func ParseReach(raw []byte, reach *Reach) (Parsed, error) {
	if node, ok := parseBlockYAML(raw, reach); ok {
		return Parsed{Node: node, Plain: true}, nil
	}
	node, err := parseWithLibrary(raw)
	if err != nil || !usesAliases(node) {
		return Parsed{Node: node}, err
	}
	if node, err = resolveAliases(node); err != nil {
		return Parsed{}, fmt.Errorf("resolving anchors: %w", err)
	}
	return Parsed{Node: node, Resolved: true}, nil
}

// parseWithLibrary parses with the YAML library, comments included.
func parseWithLibrary(raw []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		return nil, err
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, fmt.Errorf("found a second YAML Document without a --- separator line")
	}
	return &doc, nil
}

// objectNode returns the mapping of the edited object: the document root or
// one of its List items.
func objectNode(doc *yaml.Node, item int) *yaml.Node {
	if len(doc.Content) == 0 {
		return nil
	}
	root := doc.Content[0]
	if item < 0 {
		return root
	}
	items := MappingValue(root, "items")
	if items == nil || item >= len(items.Content) {
		return nil
	}
	return items.Content[item]
}
