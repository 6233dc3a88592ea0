package csvsync

import (
	"context"
	"sort"
	"sync"

	"github.com/memberkit/memberkit/membership"
	"github.com/memberkit/memberkit/store"
)

// hashPasswords resolves every password of the plan: stored hashes are
// compared, clear passwords verified against the stored hash (unchanged
// when they match) or hashed, temporary passwords made.
func (s *Service) hashPasswords(ctx context.Context, p *Plan, o PlanOptions, temp *tempHash) error {
	// Stored hashes of the members whose row carries a password.
	var ids []string
	for i := range p.Actions {
		if p.Actions[i].verify {
			ids = append(ids, p.Actions[i].MemberID)
		}
	}
	stored := make(map[string]membership.PasswordHash, len(ids))
	if len(ids) > 0 {
		err := s.st.View(ctx, p.OrgID, func(tx store.Tx) error {
			for start := 0; start < len(ids); start += 1000 {
				for m, err := range tx.Members(ctx, store.MemberQuery{MemberFilter: store.MemberFilter{IDs: ids[start:min(start+1000, len(ids))]}}) {
					if err != nil {
						return err
					}
					stored[m.ID] = m.PasswordHash
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	var shared membership.PasswordHash
	var jobs []int
	for i := range p.Actions {
		a := &p.Actions[i]
		switch {
		case a.verify && a.secret.plain == "": // a PHC string from the file
			if a.secret.hash != stored[a.MemberID] {
				a.setHash = true
			}
		case a.secret.plain != "":
			jobs = append(jobs, i)
		case a.Kind == KindAdd && a.mustChange && o.TemporaryPassword != "":
			if shared == "" {
				<-temp.done
				if temp.err != nil {
					return temp.err
				}
				shared = temp.hash
			}
			a.secret.hash = shared
		case a.Kind == KindAdd && a.mustChange:
			jobs = append(jobs, i)
		}
	}
	if temp != nil {
		p.hashes++ // spent, used or not
	}
	total := len(jobs)
	var mu sync.Mutex
	var firstErr error
	done := 0
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(s.workers, max(total, 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				a := &p.Actions[i]
				ops, err := s.resolvePassword(ctx, a, stored[a.MemberID])
				mu.Lock()
				p.hashes += ops
				if err != nil && firstErr == nil {
					firstErr = err
				}
				done++
				d := done
				mu.Unlock()
				if o.Progress != nil && (d%64 == 0 || d == total) {
					o.Progress(d, total)
				}
			}
		}()
	}
feed:
	for _, i := range jobs {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return err
	}
	if firstErr != nil {
		return firstErr
	}
	for i := range p.Actions {
		a := &p.Actions[i]
		if a.setHash && a.Kind != KindAdd {
			a.Changes = append(a.Changes, Change{"password", passwordMask, passwordMask})
			if a.Kind == KindUnchanged {
				a.Kind = KindUpdate
			}
		}
	}
	sort.SliceStable(p.Actions, func(i, j int) bool {
		li, lj := p.Actions[i].Line, p.Actions[j].Line
		if li == 0 || lj == 0 {
			return li != 0 && lj == 0
		}
		return li < lj
	})
	return nil
}

// tempHash is the shared temporary password's hash, computed beside the
// roster read.
type tempHash struct {
	done chan struct{}
	hash membership.PasswordHash
	err  error
}

// resolvePassword does the hashing work of one action and returns how
// many hash operations it spent.
func (s *Service) resolvePassword(ctx context.Context, a *Action, stored membership.PasswordHash) (int, error) {
	ops := 0
	if a.secret.plain != "" {
		if a.verify && stored != "" {
			ops++
			if ok, rehash, err := s.hasher.VerifyContext(ctx, stored, a.secret.plain); err == nil && ok && !rehash {
				a.secret.plain = ""
				return ops, nil // same password: unchanged
			}
		}
		h, err := s.hasher.HashContext(ctx, a.secret.plain)
		ops++
		if err != nil {
			return ops, err
		}
		a.secret.hash, a.setHash, a.secret.plain = h, true, ""
		return ops, nil
	}
	// A random temporary password for a new member.
	pw, err := membership.RandomPassword(16)
	if err != nil {
		return ops, err
	}
	h, err := s.hasher.HashContext(ctx, pw)
	ops++
	if err != nil {
		return ops, err
	}
	a.secret.hash, a.secret.tempPw = h, pw
	return ops, nil
}
