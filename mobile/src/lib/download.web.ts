/** In a browser: let the browser download the original (the URL serves the unchanged bytes). */
export async function saveOriginal(url: string, filename: string): Promise<string> {
  const link = document.createElement('a');
  link.href = url;
  link.download = filename;
  link.rel = 'noopener';
  document.body.appendChild(link);
  link.click();
  link.remove();
  return 'Download started.';
}
