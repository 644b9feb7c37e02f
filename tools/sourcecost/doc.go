// Package sourcecost holds what one source of records and the rules over it cost the processor:
// the files that make them, and nothing else. Its test proves it for the AWS console logins and
// rules C and D: deleting their files, and no line of any other file, leaves a component that
// builds, vets and passes its remaining tests. If a line about them creeps into a shared file (a
// case in processor.go, a kind in a list, a field of a shared struct), the module no longer builds
// without their files, and the test fails.
package sourcecost
