import { readFileSync } from 'node:fs';
import { ConfigError, type Config } from '../../config.ts';
import { formatZodIssues } from '../../core/errors.ts';
import { apiWorkflowSchema, checkMapAgainstWorkflow, DEFAULT_CHECKPOINT, defaultWorkflow, MAP_KEYS, mapFileSchema, parseRef, type ApiWorkflow, type WorkflowMap } from './workflow.ts';

function readJson(path: string, setting: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`${setting}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new ConfigError(`${setting}: ${path} is not JSON`);
  }
}

/**
 * The workflow ComfyUI jobs run, checked at start against itself: the shipped default, or the operator's
 * API-format file with its map. Checks against the server's nodes happen before the first job and in `doctor`.
 */
export function loadComfyWorkflow(config: Pick<Config, 'COMFYUI_WORKFLOW' | 'COMFYUI_WORKFLOW_MAP' | 'COMFYUI_CHECKPOINT'>): { workflow: ApiWorkflow; map: WorkflowMap; workflowName: string } {
  if (!config.COMFYUI_WORKFLOW) {
    if (config.COMFYUI_WORKFLOW_MAP) throw new ConfigError('COMFYUI_WORKFLOW_MAP: only used with COMFYUI_WORKFLOW; set both, or neither for the shipped workflow');
    return { ...defaultWorkflow(config.COMFYUI_CHECKPOINT ?? DEFAULT_CHECKPOINT), workflowName: 'the default workflow' };
  }
  if (!config.COMFYUI_WORKFLOW_MAP) throw new ConfigError('COMFYUI_WORKFLOW_MAP: required with COMFYUI_WORKFLOW; a JSON file such as {"prompt":"6.text","seed":"3.seed"}');
  const wf = apiWorkflowSchema.safeParse(readJson(config.COMFYUI_WORKFLOW, 'COMFYUI_WORKFLOW'));
  if (!wf.success) {
    throw new ConfigError(`COMFYUI_WORKFLOW: not an API-format workflow (export it with "Export (API)"): ${formatZodIssues(wf.error.issues)}`);
  }
  const raw = mapFileSchema.safeParse(readJson(config.COMFYUI_WORKFLOW_MAP, 'COMFYUI_WORKFLOW_MAP'));
  if (!raw.success) throw new ConfigError(`COMFYUI_WORKFLOW_MAP: ${formatZodIssues(raw.error.issues)} (keys: ${MAP_KEYS.join(', ')})`);
  if (!raw.data.prompt) throw new ConfigError('COMFYUI_WORKFLOW_MAP: "prompt" is required: the node input that takes the prompt, e.g. "6.text"');
  const map = Object.fromEntries(Object.entries(raw.data).filter(([, v]) => v).map(([k, v]) => [k, parseRef(v!)])) as WorkflowMap;
  const workflow = wf.data as ApiWorkflow;
  const problems = checkMapAgainstWorkflow(workflow, map, 'COMFYUI_WORKFLOW_MAP');
  if ((map.width === undefined) !== (map.height === undefined)) problems.push('COMFYUI_WORKFLOW_MAP: map both "width" and "height", or neither');
  if (problems.length) throw new ConfigError(problems.join('\n'));
  if (config.COMFYUI_CHECKPOINT && map.checkpoint) workflow[map.checkpoint.node]!.inputs[map.checkpoint.input] = config.COMFYUI_CHECKPOINT;
  return { workflow, map, workflowName: 'COMFYUI_WORKFLOW' };
}
