package main

import "flag"

// parseArgs parses fs's flags wherever they stand among args and returns
// the positional arguments in order: `hookgate validate FILE --offline`
// means what `hookgate validate --offline FILE` does. Go's flag package
// stops at the first positional argument, so each stretch between
// positionals is parsed in turn. "--" ends the flags: everything after it
// is positional. Every subcommand parses through this one helper.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			return append(pos, rest...), nil
		}
		if len(rest) == 0 {
			return pos, nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// flagSet reports whether the command line set the flag name.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}
