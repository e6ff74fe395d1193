// The same Progress payloads and the same 4-stage script as the dev server's
// scripted jobs (POST /ws/test/{id}), so both servers emit identical bytes at
// the same rate.
'use strict';

const STAGES = [
  ['upload', 'Upload received'],
  ['text_extraction', 'Text extraction'],
  ['indexing', 'Indexing'],
  ['finalize', 'Finalize'],
];

function pending(id) {
  return {
    process_id: id, seq: 0, state: 'pending', stage: null, stage_index: 0, stage_count: 0,
    stages: [], percent: 0, message: '', error: null, updated_at_ms: Date.now(),
  };
}

function enterStage(p, index, message) {
  p.stages.forEach((s, i) => { s.status = i < index ? 'done' : i === index ? 'active' : 'pending'; });
  p.stage_index = index;
  p.stage = STAGES[index][0];
  p.message = message;
}

// Runs one job, calling emit(progress) for every new state; resolves at the end.
async function runJob(id, stepMs, stepsPerStage, emit) {
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const p = pending(id);
  p.state = 'running';
  p.stage_count = STAGES.length;
  p.stages = STAGES.map(([name, label]) => ({ name, label, status: 'pending' }));
  const publish = () => { p.seq += 1; p.updated_at_ms = Date.now(); emit(p); };
  enterStage(p, 0, 'Receiving upload...');
  publish();
  const total = STAGES.length * stepsPerStage;
  // Steps keep to a schedule, as on our server: a step that fired late does
  // not push the rest of the job back.
  let due = performance.now();
  for (let index = 0; index < STAGES.length; index += 1) {
    if (index > 0) { enterStage(p, index, `Starting ${STAGES[index][1].toLowerCase()}...`); publish(); }
    for (let step = 1; step <= stepsPerStage; step += 1) {
      due += stepMs;
      await sleep(Math.max(0, due - performance.now()));
      p.percent = ((index * stepsPerStage + step) / total) * 100;
      p.message = `${STAGES[index][1]}: step ${step} of ${stepsPerStage}`;
      publish();
    }
  }
  p.stages.forEach((s) => { s.status = 'done'; });
  p.state = 'completed';
  p.percent = 100;
  p.message = 'Done';
  publish();
}

module.exports = { pending, runJob };
