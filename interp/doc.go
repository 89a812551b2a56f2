// Package interp is the cell engine: it runs Go notebook cells on the yaegi
// interpreter, keeping state across cells.
//
// A Session is created with New and used by one kernel or one headless notebook run:
//
//	func New(opts Options) (*Session, error)
//	func (s *Session) Execute(ctx context.Context, c Cell) Outcome
//	func (s *Session) Complete(code string, cursor int) Completion   // cursor in code points
//	func (s *Session) Inspect(code string, cursor, detail int) (display.Bundle, bool)
//	func (s *Session) IsComplete(code string) (status, indent string)
//	func (s *Session) Close() error
//
// Execute runs one cell at a time; cancelling ctx interrupts the cell and Execute
// returns only when the cell has really stopped. Complete, Inspect and IsComplete are
// safe to call while a cell runs.
package interp
