import { describe, expect, it } from 'vitest';
import { parseVerlRow } from '../../../datasets/verl-row.js';

describe('parseVerlRow', () => {
  it('takes the user messages of a chat prompt and the label', () => {
    expect(
      parseVerlRow({
        prompt: [
          { role: 'system', content: 'Be brief.' },
          { role: 'user', content: 'What is 1+1?' },
          { role: 'assistant', content: '2' },
          { role: 'user', content: 'And 2+2?' },
        ],
        label: '4',
      }),
    ).toEqual({ ok: true, row: { prompt: 'What is 1+1?\n\nAnd 2+2?', answer: '4' } });
  });

  it('reads the eval format (problem, answer, id) and question', () => {
    expect(parseVerlRow({ id: 'a-1', problem: 'P?', answer: '025', source_fields: {} })).toEqual({
      ok: true,
      row: { id: 'a-1', prompt: 'P?', answer: '025' },
    });
    expect(parseVerlRow({ question: 'Q?', answer: 3 })).toEqual({
      ok: true,
      row: { prompt: 'Q?', answer: '3' },
    });
  });

  it('prefers prompt over problem, and reward_model.ground_truth over label over answer', () => {
    const row = parseVerlRow({
      prompt: 'from prompt',
      problem: 'from problem',
      reward_model: { ground_truth: 'gt', style: 'rule' },
      label: 'label',
      answer: 'answer',
    });
    expect(row).toEqual({ ok: true, row: { prompt: 'from prompt', answer: 'gt' } });
    expect(parseVerlRow({ problem: 'p', reward_model: { ground_truth: null }, label: 'l' })).toMatchObject({
      row: { answer: 'l' },
    });
  });

  it('converts numbers, bigints and one-element lists to a trimmed string', () => {
    expect(parseVerlRow({ problem: 'p', label: 27.0 })).toMatchObject({ row: { answer: '27' } });
    expect(parseVerlRow({ problem: 'p', label: 12n })).toMatchObject({ row: { answer: '12' } });
    expect(parseVerlRow({ problem: 'p', reward_model: { ground_truth: [' 7 '] } })).toMatchObject({
      row: { answer: '7' },
    });
  });

  it('takes the id from id, else extra_info.index, and data_source', () => {
    expect(parseVerlRow({ problem: 'p', label: '1', extra_info: { index: 5n, split: 'train' } })).toEqual({
      ok: true,
      row: { id: '5', prompt: 'p', answer: '1' },
    });
    expect(
      parseVerlRow({ problem: 'p', label: '1', id: 9, extra_info: { index: 5 }, data_source: 'x' }),
    ).toEqual({
      ok: true,
      row: { id: '9', prompt: 'p', answer: '1', dataSource: 'x' },
    });
  });

  it.each([
    [{ prompt: [{ role: 'user', content: 'q' }], label: '' }, 'label is empty'],
    [{ prompt: [{ role: 'user', content: 'q' }], label: '   ' }, 'label is empty'],
    [{ problem: 'p', answer: [] }, 'answer is empty'],
    [{ problem: 'p', label: ['1', '2'] }, 'label has 2 elements; only a one-element list is supported'],
    [{ problem: 'p', label: { a: 1 } }, 'label must be a string, a number or an array of them, got {"a":1}'],
    [{ problem: 'p', label: [{}] }, 'label[0] must be a string or a number, got {}'],
    [{ problem: 'p', reward_model: 'x', label: '1' }, 'reward_model must be an object, got "x"'],
    [{ problem: 'p' }, 'no ground truth: expected reward_model.ground_truth, label or answer'],
    [{ label: '1' }, 'no prompt: expected prompt, problem or question'],
    [{ problem: '', label: '1' }, 'problem is empty'],
    [{ prompt: 5, label: '1' }, 'prompt must be a string or a list of messages, got 5'],
    [{ prompt: [{ role: 7, content: 'q' }], label: '1' }, 'prompt[0].role must be a string, got 7'],
    [
      { prompt: [{ role: 'system', content: 's' }], label: '1' },
      'prompt has no user message (roles: system)',
    ],
    [{ prompt: [], label: '1' }, 'prompt has no user message (roles: none)'],
    [{ problem: 'p', label: '1', id: '' }, 'id is empty'],
    [{ problem: 'p', label: '1', data_source: 3 }, 'data_source must be a string, got 3'],
    [[1, 2], 'row must be an object, got [1,2]'],
    [null, 'row must be an object, got null'],
  ])('rejects %j: %s', (value, reason) => {
    expect(parseVerlRow(value)).toEqual({ ok: false, reason });
  });

  it('shortens long values in reasons', () => {
    const result = parseVerlRow({ problem: 'p', label: { text: 'x'.repeat(500) } });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason.length).toBeLessThan(140);
  });
});
