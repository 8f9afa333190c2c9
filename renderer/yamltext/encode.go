package yamltext

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"strconv"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// valueNode builds the YAML node of a plain Go value (the shapes JSON and
// unstructured objects use). Building it directly is far cheaper than
// yaml.Node.Encode, which prints the value and parses it back.
func valueNode(key string, value any) (*yaml.Node, error) {
	scalar := func(tag, text string) *yaml.Node {
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: text}
	}
	switch v := value.(type) {
	case nil:
		return scalar("!!null", "null"), nil
	case string:
		return scalar("!!str", v), nil
	case bool:
		return scalar("!!bool", strconv.FormatBool(v)), nil
	case int, int32, int64:
		return scalar("!!int", fmt.Sprint(v)), nil
	case float64:
		return scalar("!!float", strconv.FormatFloat(v, 'g', -1, 64)), nil
	case []any:
		seq := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		for _, item := range v {
			child, err := valueNode(key, item)
			if err != nil {
				return nil, err
			}
			seq.Content = append(seq.Content, child)
		}
		return seq, nil
	case map[string]any:
		m := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		for _, k := range slices.Sorted(maps.Keys(v)) {
			child, err := valueNode(key, v[k])
			if err != nil {
				return nil, err
			}
			m.Content = append(m.Content, scalar("!!str", k), child)
		}
		return m, nil
	}
	return nil, fmt.Errorf("encoding %s: unsupported value type %T", key, value)
}

// reencode applies the edits to the document and encodes it again. Only
// documents a text splice cannot handle (flow style, JSON) come here; they
// are parsed again with the YAML library so that comments survive, and
// their leading separator line is kept as it was.
func reencode(text []byte, edits []Edit) ([]byte, error) {
	doc, err := parseWithLibrary(text)
	if err != nil {
		return nil, err
	}
	return encodeEdited(text, doc, edits)
}

// encodeEdited applies the edits to doc, the node tree of text, and encodes
// it, keeping text's leading separator line and sequence style.
func encodeEdited(text []byte, doc *yaml.Node, edits []Edit) ([]byte, error) {
	for _, edit := range edits {
		obj := objectNode(doc, edit.Item)
		if obj == nil {
			return nil, fmt.Errorf("object %d is gone from the Document", edit.Item)
		}
		if err := setNode(obj, edit); err != nil {
			return nil, err
		}
	}
	style := yaml.SequenceIndentStyle(yaml.DeriveSeqIndentStyle(string(text)))
	body, err := yaml.MarshalWithOptions(doc, &yaml.EncoderOptions{SeqIndent: style})
	if err != nil {
		return nil, fmt.Errorf("encoding the rewritten Document: %w", err)
	}
	var out bytes.Buffer
	if IsSeparatorAt(text, 0) {
		end := bytes.IndexByte(text, '\n')
		if end < 0 {
			end = len(text) - 1
		}
		out.Write(text[:end+1])
	}
	out.Write(body)
	return out.Bytes(), nil
}

// setNode applies one edit to a node tree, creating mappings on the way.
func setNode(n *yaml.Node, edit Edit) error {
	for depth, step := range edit.Path {
		last, rest := depth == len(edit.Path)-1, edit.Path[depth+1:]
		if step.IsList() {
			if n.Kind != yaml.SequenceNode {
				return fmt.Errorf("%s is not a list", edit.Path[:depth])
			}
			i := slices.IndexFunc(n.Content, step.matchesNode)
			switch {
			case i < 0 && edit.Remove:
				return nil
			case last && edit.Remove:
				n.Content = slices.Delete(n.Content, i, i+1)
				return nil
			case last:
				value, err := valueNode(edit.Path.String(), edit.Value)
				if err != nil {
					return err
				}
				matchFlowStyle(n, value)
				if i < 0 {
					n.Content = append(n.Content, value)
				} else {
					n.Content[i] = value
				}
				return nil
			case i < 0:
				return fmt.Errorf("%s has no such item", edit.Path[:depth+1])
			}
			n = n.Content[i]
			continue
		}
		if n.Kind != yaml.MappingNode {
			return fmt.Errorf("%s is not a mapping", edit.Path[:depth])
		}
		i := keyIndex(n, step.Key)
		switch {
		case last && edit.Remove:
			if i >= 0 {
				n.Content = append(n.Content[:i], n.Content[i+2:]...)
			}
			return nil
		case i < 0 && edit.Remove:
			return nil
		case last || i < 0 || n.Content[i+1].Kind != childKind(rest[0]):
			value, err := valueNode(edit.Path.String(), nested(rest, edit.Value))
			if err != nil {
				return err
			}
			keyNode := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: step.Key}
			matchFlowStyle(n, keyNode, value)
			if i < 0 {
				n.Content = append(n.Content, keyNode, value)
			} else {
				n.Content[i+1] = value
			}
			return nil
		}
		n = n.Content[i+1]
	}
	return nil
}

// childKind is the node a step steps into: a list or a mapping.
func childKind(s Step) yaml.Kind {
	if s.IsList() {
		return yaml.SequenceNode
	}
	return yaml.MappingNode
}

// matchFlowStyle makes nodes added to a flow mapping look like their
// neighbours: flow style, and in a JSON Document double-quoted strings.
func matchFlowStyle(m *yaml.Node, added ...*yaml.Node) {
	if m.Style&yaml.FlowStyle == 0 {
		return
	}
	json := len(m.Content) > 0 && m.Content[0].Style&yaml.DoubleQuotedStyle != 0
	for _, root := range added {
		walkNodes(root, func(n *yaml.Node) {
			switch {
			case n.Kind == yaml.MappingNode || n.Kind == yaml.SequenceNode:
				n.Style |= yaml.FlowStyle
			case json && n.Kind == yaml.ScalarNode && n.Tag == "!!str":
				n.Style |= yaml.DoubleQuotedStyle
			}
		})
	}
}

func walkNodes(n *yaml.Node, visit func(*yaml.Node)) {
	visit(n)
	for _, child := range n.Content {
		walkNodes(child, visit)
	}
}
