// Which prompts a generate task runs: the first `limit` rows per dataset whose prompt leaves
// room for max_tokens in EVERY model of the run. With one model resident at a time the models
// arrive group by group, so the selection is built up:
//   - each group's models measure the prompts they are asked about (token counts need the
//     model's tokenizer and chat template); a released model's answers are remembered;
//   - a prompt no resident model has measured for a released one is taken on trust;
//   - when a later model rules out a selected prompt, the selection changes and every model
//     evaluated under the old one is stale: the runner loads it again, it measures the new
//     prompts (possibly changing the selection once more) and generates only the new ones
//     (the rest come from the store).
// Exclusions only grow, so this ends; it ends at once in the usual case (variants of one
// baseline share its tokenizer and n_ctx), where no later model rules anything out.
import { createHash } from "node:crypto";
import type { Backend } from "../../backends/backend.js";
import { promptTokens } from "./requests.js";

/** A selection and the requests it makes; `key` identifies it. */
export interface Selected<T> {
  value: T;
  key: string;
}

/** Builds up a task's selection as the run's models arrive; see the file comment. */
export class PromptSelection<T> {
  /** Per model seen: prompt → fits (prompt + max_tokens ≤ its context). */
  private readonly fit = new Map<string, Map<string, boolean>>();
  /** The selection version each model was last evaluated under. */
  private readonly evaluatedAt = new Map<string, number>();
  private version = 0;
  private current: { value: T; hash: string } | undefined;

  /**
   * @param build selects with a fit predicate (over every model seen so far)
   * @param maxTokens tokens each prompt must leave free
   * @param chat whether prompts go through the model's chat template
   */
  constructor(
    private readonly build: (fits: (prompt: string) => Promise<boolean>) => Promise<Selected<T>>,
    private readonly maxTokens: number,
    private readonly chat: boolean,
  ) {}

  /** Adds the resident `models`' constraints and selects again; true when the selection changed (or is the first). */
  async select(models: Backend[]): Promise<boolean> {
    const resident = new Map(models.map((m) => [m.name, m]));
    for (const m of models) if (!this.fit.has(m.name)) this.fit.set(m.name, new Map());
    const fits = async (prompt: string): Promise<boolean> => {
      for (const [name, known] of this.fit) {
        let ok = known.get(prompt);
        if (ok === undefined) {
          const m = resident.get(name);
          // Released and never asked: taken on trust; stale() brings it back to check.
          if (!m) continue;
          ok = (await promptTokens(m, prompt, this.chat)) + this.maxTokens <= m.contextLength();
          known.set(prompt, ok);
        }
        if (!ok) return false;
      }
      return true;
    };
    const next = await this.build(fits);
    // Hashed once per selection: the key is the JSON of every request, asked for again by the runner.
    const hash = createHash("sha256").update(next.key).digest("hex");
    const changed = hash !== this.current?.hash;
    if (changed) this.version++;
    this.current = { value: next.value, hash };
    return changed;
  }

  /** The current selection. */
  get(): T {
    if (!this.current) throw new Error("internal: a generate task was evaluated before selectForModels");
    return this.current.value;
  }

  /** Identifies the current selection (its requests). */
  key(): string {
    if (!this.current) throw new Error("internal: a generate task's selection was asked for before selectForModels");
    return this.current.hash;
  }

  /**
   * The selection is final: the task compares once every model was evaluated under it (and every
   * stale one again), so what each model's context made of each prompt is forgotten (a map entry a
   * prompt and a model, not held through the comparison). A later select() would take the models
   * seen so far on trust, as released ones.
   */
  settle(): void {
    this.fit.clear();
  }

  /** Notes that `model` was evaluated under the current selection. */
  evaluated(model: string): void {
    this.evaluatedAt.set(model, this.version);
  }

  /** Models evaluated under a selection that has changed since. */
  stale(): string[] {
    return [...this.evaluatedAt].filter(([, v]) => v !== this.version).map(([m]) => m);
  }
}
