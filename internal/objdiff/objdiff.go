// Package objdiff lists where two decoded JSON objects differ, by dotted
// path, for messages that must name the field that changed.
package objdiff

import (
	"reflect"
	"slices"
	"strings"
)

// Change is one path where the objects differ, with both values; a value
// is nil where its side lacks the path.
type Change struct {
	Path     string
	Was, Now any
}

// Changes lists the paths under path where was and now differ, sorted.
// Maps are compared key by key; anything else (lists included) as a whole.
// A key that is absent and one whose value is null are the same.
func Changes(path string, was, now any) []Change {
	var changes []Change
	walk(path, was, now, &changes)
	slices.SortFunc(changes, func(a, b Change) int { return strings.Compare(a.Path, b.Path) })
	return changes
}

// Paths are the paths of changes.
func Paths(changes []Change) []string {
	paths := make([]string, len(changes))
	for i, c := range changes {
		paths[i] = c.Path
	}
	return paths
}

func walk(path string, was, now any, changes *[]Change) {
	wasMap, wasOK := was.(map[string]any)
	nowMap, nowOK := now.(map[string]any)
	if wasOK && nowOK {
		for key := range wasMap {
			walk(path+"."+key, wasMap[key], nowMap[key], changes)
		}
		for key := range nowMap {
			if _, ok := wasMap[key]; !ok {
				walk(path+"."+key, nil, nowMap[key], changes)
			}
		}
		return
	}
	if !reflect.DeepEqual(was, now) {
		*changes = append(*changes, Change{Path: path, Was: was, Now: now})
	}
}
