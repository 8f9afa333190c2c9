package renderer

import (
	"fmt"
	"slices"
	"strings"

	"github.com/pvc-guard/pvc-guard/renderer/yamltext"
)

// decideMembership decides on one item of a list whose items are fixed
// (a StatefulSet's templates). The API server compares such a list in
// order, so the items both sides have must come in the same order, and
// keep-live, which restores a live item after the chart's items, can only
// restore one the live list has after every item the chart kept.
func decideMembership(f fieldCase) ruling {
	chart, live := itemOrder(f.path, f.object.chart), itemOrder(f.path, f.object.liveView)
	name := f.path[len(f.path)-1].Item
	switch {
	case f.chartSet && f.liveSet:
		inChart := slices.DeleteFunc(slices.Clone(chart), func(n string) bool { return !slices.Contains(live, n) })
		inLive := slices.DeleteFunc(slices.Clone(live), func(n string) bool { return !slices.Contains(chart, n) })
		if slices.Index(inChart, name) == slices.Index(inLive, name) {
			return ruling{verdict: keepChart}
		}
		return ruling{verdict: conflict,
			why: fmt.Sprintf("the chart lists the items as %s and the live object as %s; the API server compares them in order, and %s",
				strings.Join(inChart, ", "), strings.Join(inLive, ", "), f.rule.Reason),
			keepLiveRefused: "it does not reorder the items; render them in the live order"}
	case f.chartSet == f.liveSet:
		return ruling{verdict: keepChart}
	case !f.liveSet:
		return ruling{verdict: conflict, why: "the chart adds this item, and " + f.rule.Reason}
	}
	r := ruling{verdict: conflict, why: "the chart removes this item, and " + f.rule.Reason}
	after := live[slices.Index(live, name)+1:]
	if i := slices.IndexFunc(after, func(n string) bool { return slices.Contains(chart, n) }); i >= 0 {
		r.keepLiveRefused = fmt.Sprintf("it restores %s after the chart's items, and the live object lists %s after it", name, after[i])
	}
	return r
}

// itemOrder lists the names of the items in obj's list that the last step
// of p picks from, in the list's order.
func itemOrder(p yamltext.Path, obj any) []string {
	every := slices.Clone(p)
	every[len(every)-1].Item = yamltext.Wildcard
	var names []string
	for _, item := range every.Resolve(nil, obj) {
		names = append(names, item.Path[len(item.Path)-1].Item)
	}
	return names
}
