package main

import (
	"fmt"
	"runtime/debug"
	"strings"
)

// buildVersion is set with -ldflags "-X main.buildVersion=v1.2.3" by
// releases that want a name of their own; otherwise the build info says.
var buildVersion = ""

// version describes this binary from its build info: the module version
// (v1.2.3 from `go install …@v1.2.3`, a pseudo-version such as
// v0.0.0-20261202150156-e08d2b2a2592 from a build in a clone) and the VCS
// revision, time and whether the tree had changes, which `go build` records
// unless -buildvcs=false.
func version() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		info = nil
	}
	return describeBuild(buildVersion, info)
}

func describeBuild(override string, info *debug.BuildInfo) string {
	if info == nil {
		if override != "" {
			return override
		}
		return "(unknown: the binary carries no build information)"
	}
	v := override
	if v == "" {
		v = info.Main.Version
	}
	if v == "" || v == "(devel)" {
		v = "(devel)"
	}
	var rev, at string
	modified := false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			at = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	var parts []string
	switch {
	case rev != "":
		r := "revision " + rev[:min(12, len(rev))]
		if at != "" {
			r += " of " + at
		}
		if modified {
			r += ", with uncommitted changes"
		}
		parts = append(parts, r)
	case v == "(devel)":
		parts = append(parts, "no VCS revision recorded: build from a git clone with -buildvcs=true, or install a tagged version")
	}
	if info.GoVersion != "" {
		parts = append(parts, info.GoVersion)
	}
	if len(parts) == 0 {
		return v
	}
	return fmt.Sprintf("%s (%s)", v, strings.Join(parts, "; "))
}
