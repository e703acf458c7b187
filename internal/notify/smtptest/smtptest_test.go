package smtptest

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

func sendRaw(addr, to string) error {
	c, err := smtp.Dial(addr)
	if err != nil {
		return err
	}
	defer c.Close()
	return c.SendMail("from@example.org", []string{to}, strings.NewReader("Subject: hi\r\n\r\nbody\r\n"))
}

func TestServer(t *testing.T) {
	s := Start(t)
	s.FailNext(1)
	s.Reject("nobody@example.org")
	var se *smtp.SMTPError
	if err := sendRaw(s.Addr, "a@example.org"); !errors.As(err, &se) || se.Code != 451 {
		t.Fatalf("FailNext: %v", err)
	}
	if err := sendRaw(s.Addr, "Nobody@example.org"); !errors.As(err, &se) || se.Code != 550 {
		t.Fatalf("Reject: %v", err)
	}
	if err := sendRaw(s.Addr, "a@example.org"); err != nil {
		t.Fatal(err)
	}
	got := s.WaitFor(1, 5*time.Second)
	if len(got) != 1 || got[0].From != "from@example.org" || got[0].To[0] != "a@example.org" || got[0].TLS || s.Attempts() != 2 {
		t.Fatalf("%+v, %d attempts", got, s.Attempts())
	}
	m, err := got[0].Parse()
	if err != nil || m.Header.Get("Subject") != "hi" {
		t.Fatalf("%v %v", m, err)
	}

	arrived, release := s.Hold()
	errc := make(chan error, 1)
	go func() { errc <- sendRaw(s.Addr, "b@example.org") }()
	<-arrived
	select {
	case err := <-errc:
		t.Fatalf("held message answered: %v", err)
	default:
	}
	release()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if len(s.WaitFor(2, 5*time.Second)) != 2 {
		t.Fatal("held message not accepted after release")
	}
}
