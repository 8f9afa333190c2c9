package yamltext

import (
	"fmt"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// maxResolvedNodes bounds the nodes that resolving aliases may create: a
// few aliases nested in each other expand exponentially ("billion laughs"),
// and no claim comes near this size.
const maxResolvedNodes = 100_000

// usesAliases reports whether a node tree holds an alias or a merge key,
// the two YAML features whose meaning differs from the text they are in.
func usesAliases(n *yaml.Node) bool {
	if n.Kind == yaml.AliasNode || isMergeKey(n) {
		return true
	}
	for _, child := range n.Content {
		if usesAliases(child) {
			return true
		}
	}
	return false
}

// isMergeKey reports whether n is the key "<<" of a merge: plain, or tagged
// !!merge; a quoted "<<" is an ordinary key.
func isMergeKey(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Value == "<<" && n.Tag == "!!merge"
}

// resolveAliases returns a copy of a node tree with every alias replaced by
// a copy of the node it names and every merge key expanded, as Helm's
// decoder reads them (sigs.k8s.io/yaml, on yaml.v2): the entries of a
// mapping apply in order, so an entry after "<<" overrides the merged one
// and a merge overrides the entries before it; of a list of merged
// mappings, the earlier one wins. The copy holds no anchors, so it encodes
// as the plain YAML Helm sends to the API server.
func resolveAliases(n *yaml.Node) (*yaml.Node, error) {
	r := resolver{budget: maxResolvedNodes}
	return r.node(n)
}

type resolver struct {
	budget int
}

func (r *resolver) node(n *yaml.Node) (*yaml.Node, error) {
	if r.budget--; r.budget < 0 {
		return nil, fmt.Errorf("YAML aliases expand to more than %d nodes", maxResolvedNodes)
	}
	switch n.Kind {
	case yaml.AliasNode:
		if n.Alias == nil {
			return nil, fmt.Errorf("line %d: alias *%s names no anchor", n.Line, n.Value)
		}
		return r.node(n.Alias)
	case yaml.MappingNode:
		return r.mapping(n)
	}
	out := *n
	out.Anchor = ""
	out.Content = make([]*yaml.Node, len(n.Content))
	for i, child := range n.Content {
		var err error
		if out.Content[i], err = r.node(child); err != nil {
			return nil, err
		}
	}
	return &out, nil
}

// mapping resolves a mapping into entries keyed by their keys' text. A key
// written twice is refused, as the YAML library refuses it everywhere else.
func (r *resolver) mapping(n *yaml.Node) (*yaml.Node, error) {
	out := *n
	out.Anchor = ""
	out.Content = nil
	written := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, value := n.Content[i], n.Content[i+1]
		if isMergeKey(key) {
			if err := r.merge(&out, value); err != nil {
				return nil, err
			}
			continue
		}
		key, err := r.node(key)
		if err != nil {
			return nil, err
		}
		if key.Kind != yaml.ScalarNode {
			return nil, fmt.Errorf("line %d: a mapping key that is not a string; Kubernetes objects only have string keys", key.Line)
		}
		if written[key.Value] {
			return nil, fmt.Errorf("line %d: mapping key %q already defined", key.Line, key.Value)
		}
		written[key.Value] = true
		resolved, err := r.node(value)
		if err != nil {
			return nil, err
		}
		setEntry(&out, key, resolved)
	}
	return &out, nil
}

// merge applies the mapping (or list of mappings) of a merge key to out.
func (r *resolver) merge(out *yaml.Node, value *yaml.Node) error {
	sources := []*yaml.Node{value}
	if value.Kind == yaml.SequenceNode {
		sources = nil
		for i := len(value.Content) - 1; i >= 0; i-- { // the earlier mapping wins
			sources = append(sources, value.Content[i])
		}
	}
	for _, source := range sources {
		resolved, err := r.node(source)
		if err != nil {
			return err
		}
		if resolved.Kind != yaml.MappingNode {
			return fmt.Errorf("line %d: a merge key (<<) takes a mapping or a list of mappings", value.Line)
		}
		for i := 0; i+1 < len(resolved.Content); i += 2 {
			setEntry(out, resolved.Content[i], resolved.Content[i+1])
		}
	}
	return nil
}

// setEntry sets key to value in a mapping node, in the place of an entry
// with the same key or at the end.
func setEntry(m *yaml.Node, key, value *yaml.Node) {
	if i := keyIndex(m, key.Value); i >= 0 {
		m.Content[i+1] = value
		return
	}
	m.Content = append(m.Content, key, value)
}
