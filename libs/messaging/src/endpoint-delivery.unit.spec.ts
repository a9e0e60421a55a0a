import { maskEvent, problemWithMasks } from './endpoint-delivery';

describe('event masks', () => {
  const event = {
    type: 'PaymentTakenEvent',
    timestamp: '2026-11-21T10:00:00Z',
    card: { number: '4111111111111111', expiry: '12/29', cvc: 123 },
    notes: [{ text: 'call back' }, { text: 'ok' }],
    email: 'a@b.c',
    contact: { email: 'x@y.zz' },
  };

  it('replaces the selected strings with same-length filler, in a copy', () => {
    const masked = maskEvent(event, ['$.card.number', '$.notes[*].text', '$..email']);
    expect(masked.card.number).toBe('*'.repeat(16));
    expect(masked.notes.map((n) => n.text)).toEqual(['*********', '**']);
    expect(masked.email).toBe('*****');
    expect(masked.contact.email).toBe('******');
    expect(masked.card.expiry).toBe('12/29');
    expect(event.card.number).toBe('4111111111111111'); // the original is untouched
  });

  it('leaves non-strings and unmatched paths alone', () => {
    expect(maskEvent(event, ['$.card.cvc', '$.missing.path'])).toEqual(event);
  });

  it('refuses expressions that are not JSONPath, and scripts', () => {
    expect(problemWithMasks(['$.card.number', '$..email'])).toBeNull();
    expect(problemWithMasks(['card.number'])).toMatch(/starting with "\$"/);
    expect(problemWithMasks(['$..[?(@.x)]'])).toMatch(/not allowed/);
  });
});
