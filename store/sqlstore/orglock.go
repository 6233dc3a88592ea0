package sqlstore

import (
	"context"
	"sync"
)

// orgQueue lets one Update of an org at a time, per process, wait for the
// org's row lock. Without it, every writer of a busy org waits in the
// database: each COMMIT wakes them all, one wins the row and the others
// go back to sleep, and on a small machine those wake-ups cost more than
// the writes. In the queue, goroutines wait their turn in order (a
// channel's waiters are served first in, first out), and the database
// sees one waiter per process. The row lock still orders processes.
//
// So an Update must not run another Update (of any org) inside its fn:
// where the database would report two such nested Updates crossing as a
// deadlock, they would wait for each other until their contexts end.
// The services never nest them.
type orgQueue struct {
	mu sync.Mutex
	m  map[string]*orgTurn
}

type orgTurn struct {
	ch    chan struct{} // holds a token while an Update of the org runs
	users int           // goroutines holding or waiting for the turn
}

// wait takes the org's turn, or returns the context's error; release
// gives it back.
func (q *orgQueue) wait(ctx context.Context, orgID string) (release func(), err error) {
	q.mu.Lock()
	if q.m == nil {
		q.m = make(map[string]*orgTurn)
	}
	t := q.m[orgID]
	if t == nil {
		t = &orgTurn{ch: make(chan struct{}, 1)}
		q.m[orgID] = t
	}
	t.users++
	q.mu.Unlock()
	done := func() {
		q.mu.Lock()
		t.users--
		if t.users == 0 {
			delete(q.m, orgID)
		}
		q.mu.Unlock()
	}
	select {
	case t.ch <- struct{}{}:
		return func() { <-t.ch; done() }, nil
	case <-ctx.Done():
		done()
		return nil, ctx.Err()
	}
}
