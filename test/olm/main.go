// olm-validate runs the operator-framework validators (the library behind `operator-sdk bundle
// validate`) on a bundle directory: the default bundle validators (CSV, CRD, bundle), OperatorHub
// (v2, with its standard categories and capabilities) and good practices. It prints one JSON
// document with every error and warning and exits 1 when there is an error, 2 when the bundle
// cannot be read.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"

	"github.com/operator-framework/api/pkg/manifests"
	"github.com/operator-framework/api/pkg/validation"
	"github.com/operator-framework/api/pkg/validation/errors"
)

type finding struct {
	Validated string `json:"validated"`
	Type      string `json:"type"`
	Field     string `json:"field,omitempty"`
	Message   string `json:"message"`
}

type report struct {
	Bundle   string    `json:"bundle"`
	Errors   []finding `json:"errors"`
	Warnings []finding `json:"warnings"`
}

func main() {
	k8sVersion := flag.String("k8s-version", "", "Kubernetes version the OperatorHub validator checks removed APIs against (e.g. 1.33)")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: olm-validate [--k8s-version X.Y] BUNDLE_DIR\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	bundle, err := manifests.GetBundleFromDir(flag.Arg(0))
	if err != nil {
		fmt.Fprintf(os.Stderr, "olm-validate: cannot read the bundle in %s: %v\n", flag.Arg(0), err)
		os.Exit(2)
	}

	validators := validation.DefaultBundleValidators.WithValidators(
		validation.OperatorHubV2Validator,
		validation.StandardCategoriesValidator,
		validation.StandardCapabilitiesValidator,
		validation.GoodPracticesValidator,
	)
	objects := bundle.ObjectsToValidate()
	if *k8sVersion != "" {
		// The validators read optional values from a map among the objects.
		objects = append(objects, map[string]string{"k8s-version": *k8sVersion})
	}

	out := report{Bundle: bundle.Name, Errors: []finding{}, Warnings: []finding{}}
	for _, result := range validators.Validate(objects...) {
		out.Errors = append(out.Errors, findings(result.Name, result.Errors)...)
		out.Warnings = append(out.Warnings, findings(result.Name, result.Warnings)...)
	}
	encoder := json.NewEncoder(os.Stdout)
	encoder.SetIndent("", "  ")
	if err := encoder.Encode(out); err != nil {
		fmt.Fprintf(os.Stderr, "olm-validate: %v\n", err)
		os.Exit(2)
	}
	if len(out.Errors) > 0 {
		os.Exit(1)
	}
}

func findings(validated string, from []errors.Error) []finding {
	list := make([]finding, 0, len(from))
	for _, e := range from {
		list = append(list, finding{Validated: validated, Type: string(e.Type), Field: e.Field, Message: e.Error()})
	}
	return list
}
