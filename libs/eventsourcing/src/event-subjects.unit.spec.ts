import { eventSubject, streamEventSubject } from './event-subjects';

describe('eventSubject', () => {
  it('builds parley.evt.<context>.<id>.<Type>', () => {
    expect(eventSubject('conference', '4f1c2a9e-7d1b-4c1e-9a55-0a4b2b1c3d4e', 'ConferenceJoinedEvent')).toBe(
      'parley.evt.conference.4f1c2a9e-7d1b-4c1e-9a55-0a4b2b1c3d4e.ConferenceJoinedEvent',
    );
  });

  it.each([
    ['a dot', 'conf.erence', 'id', 'T'],
    ['a star', 'conference', 'id*', 'T'],
    ['a greater-than', 'conference', 'id', 'T>'],
    ['a space', 'conference', 'an id', 'T'],
    ['a tab', 'conference', 'id', 'T\t'],
    ['a newline', 'conference', 'id\n', 'T'],
    ['an empty token', 'conference', '', 'T'],
  ])('rejects %s', (_what, context, id, type) => {
    expect(() => eventSubject(context, id, type)).toThrow('invalid');
  });
});

describe('streamEventSubject', () => {
  it('makes each part of the stream id a token: context, organization, id', () => {
    expect(streamEventSubject('conference/org-a/call-1', 'ConferenceJoinedEvent')).toBe('parley.evt.conference.org-a.call-1.ConferenceJoinedEvent');
    expect(streamEventSubject('userevent/d-1', 'UserEventSentEvent')).toBe('parley.evt.userevent.d-1.UserEventSentEvent');
  });
  it('refuses a stream id without a context, or one that would split the subject', () => {
    expect(() => streamEventSubject('conference-1', 'T')).toThrow(/no "<context>\/" prefix/);
    expect(() => streamEventSubject('conference/org.a/1', 'T')).toThrow('invalid');
    expect(() => streamEventSubject('conference/>/1', 'T')).toThrow('invalid');
    expect(() => streamEventSubject('conference//1', 'T')).toThrow('invalid');
  });
});
