import { A1111Fake } from '../fakes/providers/a1111-fake.ts';
import { ComfyFake } from '../fakes/providers/comfyui-fake.ts';

/**
 * The self-hosted providers' fakes for the contract drivers: every driver starts them beside its platform
 * fake and passes their URLs to the app, so a job on `comfyui` and on `a1111` runs through each platform.
 */
export class SelfHostedFakes {
  readonly comfy = new ComfyFake();
  readonly a1111 = new A1111Fake();

  async start(): Promise<void> {
    await Promise.all([this.comfy.start(), this.a1111.start()]);
  }

  env(): Record<string, string> {
    return { COMFYUI_URL: this.comfy.url, A1111_URL: this.a1111.url };
  }

  async close(): Promise<void> {
    await Promise.all([this.comfy.close(), this.a1111.close()]);
  }
}
