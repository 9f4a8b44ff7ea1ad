export async function runFarm(_args: readonly string[]): Promise<boolean> {
  return true;
}
